import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config';
import type { TableNames } from '../domain/ports';

/** A document client that drops undefined attributes instead of failing on them. */
export const documentClientFor = (client: DynamoDBClient = new DynamoDBClient({})) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export const tableNamesFromEnv = (env: NodeJS.ProcessEnv = process.env): TableNames => ({
  runs: requireEnv(ENV.runsTable, env),
  tasks: requireEnv(ENV.tasksTable, env),
});
