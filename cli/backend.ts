/**
 * Where `submit`, `status`, `results` and `audit` find a run: the local state
 * folder (DynamoDB Local started on its data) or a deployed stack, found by
 * name through its CloudFormation outputs with the user's AWS credentials.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STACK_OUTPUT } from '../lib/stack-outputs';
import { SqsTaskSender } from '../lambdas/adapters/sqs-task-sender';
import type { TableNames, TaskSender } from '../lambdas/domain/ports';
import { DEFAULT_TABLE_NAMES } from '../lambdas/domain/schema';
import { documentClientFor } from '../lambdas/handlers/aws-clients';
import { LOCAL_AWS, startDynamoDbLocal } from '../local/dynamodb-local';
import { createTables } from '../local/tables';
import {
  MissingCredentialsError,
  MissingStackOutputError,
  NoLocalStateError,
  StackLookupError,
  StackNotFoundError,
} from './errors';
import { hasLocalState, localStatePaths } from './state';

export interface BackendOptions {
  /** A deployed stack's name; without it, the local state folder. */
  readonly stack?: string;
  /** Port of the DynamoDB Local started on the local state. @default a free port */
  readonly dynamoDbPort?: number;
}

/** An open connection to the run store. */
export interface Backend {
  /** Where the runs are, for messages: "local state in …" or "stack …". */
  readonly description: string;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** Sends task messages to the stack's queue; undefined for the local state (no workers run). */
  readonly sender: TaskSender | undefined;
  /** Where a result key's object can be read: a file path or an s3:// URL. */
  resultLocation(resultKey: string): string;
  close(): Promise<void>;
}

export const openBackend = (options: BackendOptions, cwd: string): Promise<Backend> =>
  options.stack === undefined
    ? openLocalBackend(cwd, options.dynamoDbPort)
    : openStackBackend(options.stack);

const openLocalBackend = async (cwd: string, dynamoDbPort?: number): Promise<Backend> => {
  const paths = localStatePaths(cwd);
  if (!hasLocalState(paths)) throw new NoLocalStateError(paths.root);

  const instance = await startDynamoDbLocal({ port: dynamoDbPort, dataDir: paths.dynamoDbDir });
  const client = new DynamoDBClient({ endpoint: instance.endpoint, ...LOCAL_AWS });
  await createTables(client, DEFAULT_TABLE_NAMES);

  return {
    description: `the local state in ${paths.root}`,
    documentClient: documentClientFor(client),
    tables: DEFAULT_TABLE_NAMES,
    sender: undefined,
    resultLocation: (resultKey) => `${paths.resultsDir}/${resultKey}`,
    close: async () => {
      client.destroy();
      await instance.stop();
    },
  };
};

/** The stack's outputs by key. */
export const describeStackOutputs = async (
  client: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string>> => {
  let response;
  try {
    response = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    throw stackLookupFailure(error, stackName, await regionOf(client));
  }
  const stack = response.Stacks?.[0];
  if (!stack) throw new StackNotFoundError(stackName, await regionOf(client));

  return Object.fromEntries(
    (stack.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
  );
};

const stackLookupFailure = (error: unknown, stackName: string, region: string | undefined) => {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = error instanceof Error ? error.message : '';
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new MissingCredentialsError({ cause: error });
  }
  if (name === 'ValidationError' && /does not exist/i.test(message)) {
    return new StackNotFoundError(stackName, region);
  }

  return new StackLookupError(stackName, { cause: error });
};

const regionOf = async (client: CloudFormationClient) => {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
};

const requireOutput = (outputs: Record<string, string>, stackName: string, key: string) => {
  const value = outputs[key];
  if (!value) throw new MissingStackOutputError(stackName, key);

  return value;
};

const openStackBackend = async (stackName: string): Promise<Backend> => {
  const cloudFormation = new CloudFormationClient({});
  let outputs;
  try {
    outputs = await describeStackOutputs(cloudFormation, stackName);
  } finally {
    cloudFormation.destroy();
  }
  const tables = {
    runs: requireOutput(outputs, stackName, STACK_OUTPUT.runsTableName),
    tasks: requireOutput(outputs, stackName, STACK_OUTPUT.tasksTableName),
  };
  const bucket = requireOutput(outputs, stackName, STACK_OUTPUT.resultsBucketName);
  const queueUrl = requireOutput(outputs, stackName, STACK_OUTPUT.taskQueueUrl);
  const dynamoDb = new DynamoDBClient({});
  const sqs = new SQSClient({});

  return {
    description: `stack ${stackName}`,
    documentClient: documentClientFor(dynamoDb),
    tables,
    sender: new SqsTaskSender({ client: sqs, queueUrl }),
    resultLocation: (resultKey) => `s3://${bucket}/${resultKey}`,
    close: async () => {
      dynamoDb.destroy();
      sqs.destroy();
    },
  };
};
