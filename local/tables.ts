import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITIONS, type TableRole } from '../lambdas/domain/schema';
import type { TableNames } from '../lambdas/domain/ports';

const createTable = async (client: DynamoDBClient, role: TableRole, tableName: string) => {
  const definition = TABLE_DEFINITIONS[role];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: definition.partitionKey, AttributeType: 'S' },
          { AttributeName: definition.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: definition.partitionKey, KeyType: 'HASH' },
          { AttributeName: definition.sortKey, KeyType: 'RANGE' },
        ],
        StreamSpecification: definition.stream
          ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }
          : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
};

/**
 * Creates both tables from the shared schema if they do not exist yet, with
 * the same keys and stream the CDK stack gives them.
 */
export const createTables = async (client: DynamoDBClient, names: TableNames): Promise<void> => {
  await createTable(client, 'runs', names.runs);
  await createTable(client, 'tasks', names.tasks);
};

/** The stream ARN of the runs table (DynamoDB Local serves streams on the same port). */
export const runsStreamArn = async (client: DynamoDBClient, names: TableNames) => {
  const described = await client.send(new DescribeTableCommand({ TableName: names.runs }));

  return described.Table?.LatestStreamArn;
};
