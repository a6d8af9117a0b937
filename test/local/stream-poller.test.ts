import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { runMetaKey, RUN_META_SK } from '../../lambdas/domain/schema';
import { InvalidSettingError } from '../../local/errors';
import {
  createLocalStreamsClient,
  DynamoDbStreamPoller,
  type StreamHandler,
  type StreamPollerOptions,
} from '../../local/stream-poller';
import { runsStreamArn } from '../../local/tables';
import { createTestDatabase, type TestDatabase } from '../helpers/dynamodb';
import { eventually } from './helpers';

describe('DynamoDbStreamPoller', () => {
  let database: TestDatabase;
  let streams: DynamoDBStreamsClient;

  beforeAll(() => {
    streams = createLocalStreamsClient(process.env.CONVEYOR_TEST_DYNAMODB_ENDPOINT ?? '');
  });

  afterAll(() => streams.destroy());

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(() => database.close());

  const putRun = (runId: string, total = 3) =>
    database.documentClient.send(
      new PutCommand({
        TableName: database.tables.runs,
        Item: { ...runMetaKey(runId), status: 'running', total, payload: new Uint8Array([1, 2]) },
      }),
    );

  const completeRun = (runId: string) =>
    database.documentClient.send(
      new UpdateCommand({
        TableName: database.tables.runs,
        Key: runMetaKey(runId),
        UpdateExpression: 'SET #status = :completed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':completed': 'completed' },
      }),
    );

  const createPoller = async (
    handler: StreamHandler,
    options: Partial<StreamPollerOptions> = {},
  ) => {
    const streamArn = await runsStreamArn(database.client, database.tables);

    return new DynamoDbStreamPoller({
      client: streams,
      streamArn: streamArn ?? '',
      handler,
      retryDelayMs: 0,
      ...options,
    });
  };

  /** Steps the poller until `count` records were acknowledged or nothing more arrives. */
  const pollUntilDelivered = async (poller: DynamoDbStreamPoller, count: number) => {
    for (let cycle = 0; cycle < 50 && poller.stats().recordsDelivered < count; cycle++) {
      await poller.pollOnce();
    }
  };

  const collector = () => {
    const events: DynamoDBStreamEvent[] = [];
    const handler: StreamHandler = async (event) => {
      events.push(structuredClone(event));
    };
    const records = () => events.flatMap((event) => event.Records);

    return { events, handler, records };
  };

  it('delivers INSERT and MODIFY records of the runs table in Lambda’s shape', async () => {
    const { handler, records } = collector();
    const poller = await createPoller(handler);
    await putRun('run-1');
    await completeRun('run-1');

    await pollUntilDelivered(poller, 2);
    const [inserted, modified] = records();

    expect(records().map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY']);
    expect(inserted).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
      eventSourceARN: await runsStreamArn(database.client, database.tables),
      dynamodb: {
        Keys: { runId: { S: 'run-1' }, sk: { S: RUN_META_SK } },
        NewImage: { status: { S: 'running' }, total: { N: '3' }, payload: { B: 'AQI=' } },
        SequenceNumber: expect.any(String),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    expect(inserted?.dynamodb?.OldImage).toBeUndefined();
    expect(modified?.dynamodb?.OldImage?.status).toEqual({ S: 'running' });
    expect(modified?.dynamodb?.NewImage?.status).toEqual({ S: 'completed' });
  });

  it('retries a batch whose handler throws until it succeeds', async () => {
    const attempts: string[][] = [];
    const handler: StreamHandler = async (event) => {
      attempts.push(event.Records.map((record) => record.eventName ?? '?'));
      if (attempts.length < 3) throw new Error('finalizer unavailable');
    };
    const poller = await createPoller(handler);
    await putRun('run-1');
    await completeRun('run-1');

    await pollUntilDelivered(poller, 2);

    expect(attempts).toEqual([
      ['INSERT', 'MODIFY'],
      ['INSERT', 'MODIFY'],
      ['INSERT', 'MODIFY'],
    ]);
    expect(poller.stats()).toMatchObject({
      invocations: 3,
      failedInvocations: 2,
      retries: 2,
      recordsDelivered: 2,
    });
  });

  it('resumes from the first failed sequence number of a partial batch response', async () => {
    const batches: string[][] = [];
    const handler: StreamHandler = async (event) => {
      batches.push(event.Records.map((record) => record.dynamodb?.Keys?.runId?.S ?? '?'));
      const failing = batches.length === 1 ? event.Records.slice(1) : [];

      return {
        batchItemFailures: failing.map((record) => ({
          itemIdentifier: record.dynamodb?.SequenceNumber ?? '',
        })),
      };
    };
    const poller = await createPoller(handler);
    for (const runId of ['run-a', 'run-b', 'run-c']) await putRun(runId);

    await pollUntilDelivered(poller, 3);

    expect(batches).toEqual([
      ['run-a', 'run-b', 'run-c'],
      ['run-b', 'run-c'],
    ]);
    expect(poller.stats()).toMatchObject({ recordsDelivered: 3, retries: 1 });
  });

  it('drops a failing batch after maximumRetryAttempts and moves on', async () => {
    let invocations = 0;
    const handler: StreamHandler = async () => {
      invocations += 1;
      throw new Error('always fails');
    };
    const poller = await createPoller(handler, { maximumRetryAttempts: 1, batchSize: 1 });
    await putRun('run-a');
    await putRun('run-b');

    for (let cycle = 0; cycle < 10; cycle++) await poller.pollOnce();

    expect(invocations).toBe(4);
    expect(poller.stats()).toMatchObject({ discardedRecords: 2, recordsDelivered: 0 });
  });

  it('skips records the filter rejects without invoking the handler for them', async () => {
    const { handler, records } = collector();
    const onlyCompleted = (record: DynamoDBRecord) =>
      record.dynamodb?.NewImage?.status?.S === 'completed';
    const poller = await createPoller(handler, { filter: onlyCompleted });
    await putRun('run-1');
    await putRun('run-2');
    await completeRun('run-2');

    await pollUntilDelivered(poller, 1);

    expect(records().map((record) => record.dynamodb?.Keys?.runId?.S)).toEqual(['run-2']);
    expect(poller.stats()).toMatchObject({ recordsFiltered: 2, invocations: 1 });
  });

  it('splits records into batches of at most batchSize, in order', async () => {
    const { events, handler } = collector();
    const poller = await createPoller(handler, { batchSize: 2 });
    for (const runId of ['run-1', 'run-2', 'run-3']) await putRun(runId);

    await pollUntilDelivered(poller, 3);

    expect(
      events.map((event) => event.Records.map((record) => record.dynamodb?.Keys?.runId?.S)),
    ).toEqual([['run-1', 'run-2'], ['run-3']]);
  });

  it('starts at LATEST without replaying earlier records', async () => {
    const { handler, records } = collector();
    const poller = await createPoller(handler, { startingPosition: 'LATEST' });
    await putRun('before-start');
    await poller.pollOnce();

    await putRun('after-start');
    await pollUntilDelivered(poller, 1);

    expect(records().map((record) => record.dynamodb?.Keys?.runId?.S)).toEqual(['after-start']);
  });

  it('polls in the background after start until stopped', async () => {
    const { handler, records } = collector();
    const poller = await createPoller(handler, { pollIntervalMs: 10 });

    poller.start();
    await putRun('run-1');
    await eventually(() => records().length === 1);
    const stopped = await poller.stop();

    expect(records()[0]?.eventName).toBe('INSERT');
    expect(stopped).toEqual({ unfinished: 0 });
  });

  it('names the setting and the value received when an option is out of range', async () => {
    const build = () =>
      new DynamoDbStreamPoller({
        client: streams,
        streamArn: 'arn',
        handler: async () => undefined,
        batchSize: 0,
      });

    expect(build).toThrow(InvalidSettingError);
    expect(build).toThrow('batchSize must be an integer from 1 to 1000; received 0');
  });
});
