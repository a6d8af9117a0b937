import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { createTables } from '../../local/tables';
import type { TableNames } from '../../lambdas/domain/ports';

export interface TestDatabase {
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly endpoint: string;
  close(): void;
}

export const testEndpoint = (): string => {
  const endpoint = process.env.CONVEYOR_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('DynamoDB Local was not started by the jest global setup');

  return endpoint;
};

/**
 * Connects to the DynamoDB Local of this jest run and creates a fresh pair of
 * tables, so test files never see each other's items.
 */
export const createTestDatabase = async (): Promise<TestDatabase> => {
  const endpoint = testEndpoint();
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const suffix = randomUUID().slice(0, 8);
  const tables = { runs: `runs-${suffix}`, tasks: `tasks-${suffix}` };
  await createTables(client, tables);

  return { client, documentClient, tables, endpoint, close: () => client.destroy() };
};
