import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDbMeter } from '../../bench/meter';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { createTestDatabase, type TestDatabase } from '../helpers/dynamodb';

const BIG_VALUE = 'x'.repeat(1_500);

describe('DynamoDB meter on DynamoDB Local', () => {
  let database: TestDatabase;
  let meter: DynamoDbMeter;
  let metered: DynamoDBDocumentClient;
  let meteredClient: DynamoDBClient;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  beforeEach(() => {
    meter = new DynamoDbMeter({
      [database.tables.tasks]: ['runId', 'taskId'],
      [database.tables.runs]: ['runId', 'sk'],
    });
    const client = new DynamoDBClient({ endpoint: database.endpoint, ...LOCAL_AWS });
    meter.attachTo(client);
    meteredClient = client;
    metered = DynamoDBDocumentClient.from(client);
  });

  afterAll(() => database.close());

  it('bills a failed conditional write on the size of the item it found', async () => {
    const key = { runId: 'meter-1', taskId: 'big' };
    await database.documentClient.send(
      new PutCommand({ TableName: database.tables.tasks, Item: { ...key, body: BIG_VALUE } }),
    );

    await expect(
      metered.send(
        new UpdateCommand({
          TableName: database.tables.tasks,
          Key: key,
          UpdateExpression: 'SET #s = :s',
          ConditionExpression: 'attribute_not_exists(runId)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'processing' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    const cost = meter.cost();
    expect(cost.requests).toEqual({ UpdateItem: 1 });
    expect(cost.writeUnits).toBe(2);
  });

  it('bills a transaction twice per item, cancelled or not', async () => {
    const transaction = (expected: string) =>
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: database.tables.tasks,
              Item: { runId: 'meter-2', taskId: 't', status: 'successful' },
              ConditionExpression: 'attribute_not_exists(runId) OR #s = :expected',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':expected': expected },
            },
          },
          {
            Update: {
              TableName: database.tables.runs,
              Key: { runId: 'meter-2', sk: 'SHARD#0' },
              UpdateExpression: 'ADD completed :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
      });

    await metered.send(transaction('none'));
    await expect(metered.send(transaction('processing'))).rejects.toMatchObject({
      name: 'TransactionCanceledException',
    });

    const cost = meter.cost();
    expect(cost.requests).toEqual({ TransactWriteItems: 2 });
    expect(cost.writeUnits).toBe(2 * 2 * 2);
  });

  it('bills reads by consistency and sums the items of a query', async () => {
    for (const taskId of ['a', 'b', 'c']) {
      await database.documentClient.send(
        new PutCommand({
          TableName: database.tables.tasks,
          Item: { runId: 'meter-3', taskId, body: 'y'.repeat(2_000) },
        }),
      );
    }

    await metered.send(
      new GetCommand({ TableName: database.tables.tasks, Key: { runId: 'meter-3', taskId: 'a' } }),
    );
    await metered.send(
      new QueryCommand({
        TableName: database.tables.tasks,
        KeyConditionExpression: 'runId = :runId',
        ExpressionAttributeValues: { ':runId': 'meter-3' },
        ConsistentRead: true,
      }),
    );

    const cost = meter.cost();
    expect(cost.requests).toEqual({ GetItem: 1, Query: 1 });
    // Get, eventually consistent, ~2 KB: 0.5; Query, consistent, 3 × ~2 KB summed: 2.
    expect(cost.readUnits).toBe(0.5 + 2);
  });

  it('sizes items returned to low-level commands the same way', async () => {
    const key = { runId: 'meter-4', taskId: 'a' };
    await database.documentClient.send(
      new PutCommand({ TableName: database.tables.tasks, Item: { ...key, body: BIG_VALUE } }),
    );

    await meteredClient.send(
      new GetItemCommand({
        TableName: database.tables.tasks,
        Key: { runId: { S: key.runId }, taskId: { S: key.taskId } },
        ConsistentRead: true,
      }),
    );

    const cost = meter.cost();
    expect(cost.largestItemBytes[database.tables.tasks]).toBeGreaterThan(BIG_VALUE.length);
    expect(cost.readUnits).toBe(1);
  });
});
