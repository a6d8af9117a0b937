import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createTestDatabase, type TestDatabase } from '../helpers/dynamodb';

describe('DynamoDB Local test database', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(() => database.close());

  it('creates the runs table with a stream of new and old images', async () => {
    const described = await database.client.send(
      new DescribeTableCommand({ TableName: database.tables.runs }),
    );

    expect(described.Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(described.Table?.KeySchema).toEqual([
      { AttributeName: 'runId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });
});
