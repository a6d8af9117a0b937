import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { TaskSender } from '../../lambdas/domain/ports';
import { RUN_STATUS, taskIdForPosition, type TaskKey } from '../../lambdas/domain/schema';
import {
  BatchRetriesExhaustedError,
  InvalidSubmitRequestError,
  submitRun,
  SubmitIncompleteError,
  type SubmitRunDependencies,
  type SubmitRunRequest,
  type SubmitTaskInput,
} from '../../lambdas/domain/submit';

const TABLES = { runs: 'runs', tasks: 'tasks' } as const;
const RUN_ID = 'run-1';
const NOW_MS = Date.UTC(2026, 0, 2, 3, 4, 5);

const dynamo = mockClient(DynamoDBDocumentClient);

const sourceOf = (count: number) =>
  async function* (): AsyncIterable<SubmitTaskInput> {
    for (let index = 0; index < count; index++) {
      yield { url: `https://example.test/${index}`, line: index + 1 };
    }
  };

/** Records the order in which rows were written and messages sent. */
class EventLog implements TaskSender {
  readonly events: string[] = [];

  async sendTasks(tasks: readonly TaskKey[]): Promise<void> {
    this.events.push(`send ${tasks.length}`);
  }
}

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item && { Item: marshall(item) }),
  });

const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
};

describe('submitRun requests', () => {
  let log: EventLog;
  let waits: number[];
  let deps: SubmitRunDependencies;

  beforeEach(() => {
    dynamo.reset();
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({});
    dynamo.on(BatchWriteCommand).callsFake((input) => {
      log.events.push(`write ${input.RequestItems[TABLES.tasks].length}`);

      return {};
    });
    log = new EventLog();
    waits = [];
    deps = {
      documentClient: DynamoDBDocumentClient.from(
        new DynamoDBClient({
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      ),
      tables: TABLES,
      sender: log,
      clock: () => NOW_MS,
      concurrency: 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    };
  });

  const request = (total: number, overrides: Partial<SubmitRunRequest> = {}): SubmitRunRequest => ({
    runId: RUN_ID,
    source: sourceOf(total),
    total,
    ...overrides,
  });

  it('creates the run meta item first, only if it does not exist', async () => {
    await submitRun(deps, request(3, { shardCount: 2 }));

    const [put] = dynamo.commandCalls(PutCommand);
    expect(put?.args[0].input).toEqual({
      TableName: TABLES.runs,
      Item: {
        runId: RUN_ID,
        sk: 'META',
        status: RUN_STATUS.submitting,
        total: 3,
        shardCount: 2,
        createdAt: '2026-01-02T03:04:05.000Z',
        updatedAt: '2026-01-02T03:04:05.000Z',
      },
      ConditionExpression: 'attribute_not_exists(#runId)',
      ExpressionAttributeNames: { '#runId': 'runId' },
    });
  });

  it('writes rows 25 to a BatchWriteItem request, and each chunk before its messages', async () => {
    await submitRun(deps, request(130));

    expect(log.events).toEqual([
      'write 25',
      'write 25',
      'write 25',
      'write 25',
      'send 100',
      'write 25',
      'write 5',
      'send 30',
    ]);
  });

  it('writes pending rows with positional task ids', async () => {
    await submitRun(deps, request(2, { shardCount: 1 }));

    const [write] = dynamo.commandCalls(BatchWriteCommand);
    expect(write?.args[0].input.RequestItems?.[TABLES.tasks]?.[1]).toEqual({
      PutRequest: {
        Item: {
          runId: RUN_ID,
          taskId: taskIdForPosition(1),
          url: 'https://example.test/1',
          status: 'pending',
          attempts: 0,
          counterShard: 0,
          createdAt: '2026-01-02T03:04:05.000Z',
          updatedAt: '2026-01-02T03:04:05.000Z',
        },
      },
    });
  });

  it('marks the run running only from submitting, after every chunk', async () => {
    await submitRun(deps, request(3));

    const [update] = dynamo.commandCalls(UpdateCommand);
    expect(update?.args[0].input).toMatchObject({
      Key: { runId: RUN_ID, sk: 'META' },
      ConditionExpression: '#status = :submitting',
      ExpressionAttributeValues: { ':running': 'running', ':submitting': 'submitting' },
    });
  });

  it('sends again only the items a BatchWriteItem left unprocessed, after a back-off', async () => {
    let calls = 0;
    dynamo.on(BatchWriteCommand).callsFake((input) => {
      calls++;
      const requests = input.RequestItems[TABLES.tasks];

      return calls === 1 ? { UnprocessedItems: { [TABLES.tasks]: requests.slice(20) } } : {};
    });

    await submitRun(deps, request(25));

    const writes = dynamo.commandCalls(BatchWriteCommand).map((call) => call.args[0].input);
    expect(writes.map((input) => input.RequestItems?.[TABLES.tasks]?.length)).toEqual([25, 5]);
    expect(writes[1]?.RequestItems?.[TABLES.tasks]?.[0]?.PutRequest?.Item?.taskId).toBe(
      taskIdForPosition(20),
    );
    expect(waits).toEqual([25]);
  });

  it('stops with SubmitIncompleteError once unprocessed items outlast the retries', async () => {
    dynamo.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    const retryPolicy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 1_000 };

    const submission = submitRun({ ...deps, retryPolicy }, request(10));

    await expect(submission).rejects.toThrow(SubmitIncompleteError);
    await expect(submission).rejects.toThrow(/Run the same command again to resume/);
    const error = await rejectionOf(submission);
    expect(error.cause).toBeInstanceOf(BatchRetriesExhaustedError);
    expect(waits).toEqual([5, 10]);
    expect(log.events).toEqual([]);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('rewraps an AWS SDK error with the progress made and the cause', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    dynamo.on(BatchWriteCommand).rejectsOnce(throttled).resolves({});

    const submission = submitRun(deps, request(130));

    await expect(submission).rejects.toThrow(
      /stopped with 0 of 130 task rows stored and 0 messages sent: Rate exceeded/,
    );
    const error = await rejectionOf(submission);
    expect(error.cause).toBe(throttled);
  });

  it.each([
    [{ runId: 'has spaces' }, /runId must match/],
    [{ runId: '' }, /runId must match/],
    [{ total: 0 }, /total must be an integer from 1 to 999999999; got 0/],
    [{ total: 1.5 }, /total must be an integer/],
    [{ shardCount: 0 }, /shardCount must be an integer from 1 to 100; got 0/],
    [{ shardCount: 101 }, /shardCount must be an integer from 1 to 100; got 101/],
  ])('refuses %p before sending any request', async (overrides, message) => {
    const submission = submitRun(deps, request(3, overrides));

    await expect(submission).rejects.toThrow(InvalidSubmitRequestError);
    await expect(submission).rejects.toThrow(message);
    expect(dynamo.calls()).toHaveLength(0);
  });

  describe('on a resumed run', () => {
    beforeEach(() => {
      dynamo.on(PutCommand).rejects(conditionFailed());
      dynamo.on(GetCommand).resolves({
        Item: { runId: RUN_ID, sk: 'META', status: 'submitting', total: 3, shardCount: 4 },
      });
    });

    it('reads which rows exist with consistent reads, sending again the unprocessed keys', async () => {
      let calls = 0;
      dynamo.on(BatchGetCommand).callsFake((input) => {
        calls++;
        const keys = input.RequestItems[TABLES.tasks].Keys;

        return calls === 1
          ? {
              Responses: { [TABLES.tasks]: [] },
              UnprocessedKeys: { [TABLES.tasks]: { Keys: keys.slice(1) } },
            }
          : { Responses: { [TABLES.tasks]: [] } };
      });
      dynamo.on(TransactWriteCommand).resolves({});

      await submitRun(deps, request(3));

      const reads = dynamo.commandCalls(BatchGetCommand).map((call) => call.args[0].input);
      expect(reads[0]?.RequestItems?.[TABLES.tasks]).toMatchObject({
        ConsistentRead: true,
        Keys: [0, 1, 2].map((position) => ({ runId: RUN_ID, taskId: taskIdForPosition(position) })),
      });
      expect(reads[1]?.RequestItems?.[TABLES.tasks]?.Keys).toHaveLength(2);
    });

    it('puts only missing rows, each on condition that it does not exist', async () => {
      dynamo.on(BatchGetCommand).resolves({
        Responses: {
          [TABLES.tasks]: [
            { taskId: taskIdForPosition(1), url: 'https://example.test/1', status: 'successful' },
          ],
        },
      });
      dynamo.on(TransactWriteCommand).resolves({});

      const summary = await submitRun(deps, request(3));

      const [transaction] = dynamo.commandCalls(TransactWriteCommand);
      const puts = transaction?.args[0].input.TransactItems?.map((item) => item.Put);
      expect(puts?.map((put) => put?.Item?.taskId)).toEqual([0, 2].map(taskIdForPosition));
      expect(puts?.[0]).toMatchObject({
        ConditionExpression: 'attribute_not_exists(#taskId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
      expect(summary).toMatchObject({ rowsWritten: 2, rowsExisting: 1, messagesSent: 2 });
    });

    it('drops rows whose put found them existing and puts the rest again', async () => {
      dynamo.on(BatchGetCommand).resolves({ Responses: { [TABLES.tasks]: [] } });
      dynamo
        .on(TransactWriteCommand)
        .rejectsOnce(
          new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: [
              { Code: 'None' },
              { Code: 'ConditionalCheckFailed', Item: marshall({ status: 'processing' }) },
              { Code: 'None' },
            ],
          }),
        )
        .resolves({});

      const summary = await submitRun(deps, request(3));

      const transactions = dynamo.commandCalls(TransactWriteCommand);
      const secondPuts = transactions[1]?.args[0].input.TransactItems?.map((item) => item.Put);
      expect(secondPuts?.map((put) => put?.Item?.taskId)).toEqual([0, 2].map(taskIdForPosition));
      expect(summary).toMatchObject({ rowsWritten: 2, rowsExisting: 1, messagesSent: 2 });
    });

    it('accepts a run another submission already marked running', async () => {
      dynamo.on(BatchGetCommand).resolves({ Responses: { [TABLES.tasks]: [] } });
      dynamo.on(TransactWriteCommand).resolves({});
      dynamo.on(UpdateCommand).rejects(conditionFailed({ status: 'running' }));

      const summary = await submitRun(deps, request(3));

      expect(summary.status).toBe(RUN_STATUS.running);
    });
  });
});
