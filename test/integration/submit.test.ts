import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { TaskSender } from '../../lambdas/domain/ports';
import {
  counterShardFor,
  DEFAULT_COUNTER_SHARDS,
  RUN_STATUS,
  runMetaKey,
  TASK_STATUS,
  taskIdForPosition,
  type TaskItem,
  type TaskKey,
} from '../../lambdas/domain/schema';
import {
  RunMismatchError,
  SourceCountMismatchError,
  submitRun,
  SubmitIncompleteError,
  type SubmitRunDependencies,
  type SubmitTaskInput,
} from '../../lambdas/domain/submit';
import { createTestDatabase, type TestDatabase } from '../helpers/dynamodb';

/** A task sender that records keys, and can be told to fail from its Nth call on. */
class RecordingSender implements TaskSender {
  readonly sent: TaskKey[] = [];
  private calls = 0;

  constructor(private readonly failFromCall = Infinity) {}

  async sendTasks(tasks: readonly TaskKey[]): Promise<void> {
    this.calls++;
    if (this.calls >= this.failFromCall) throw new Error('queue unavailable');
    this.sent.push(...tasks);
  }

  sentTaskIds(): string[] {
    return this.sent.map((task) => task.taskId).sort();
  }
}

const urlsFor = (count: number, prefix = 'https://example.test/page') =>
  Array.from({ length: count }, (_, index) => `${prefix}/${index}`);

const sourceOf = (urls: readonly string[], externalIds: readonly (string | undefined)[] = []) =>
  async function* (): AsyncIterable<SubmitTaskInput> {
    for (const [index, url] of urls.entries()) {
      const externalId = externalIds[index];
      yield { url, line: index + 1, ...(externalId !== undefined && { externalId }) };
    }
  };

const taskIdsUpTo = (count: number) =>
  Array.from({ length: count }, (_, position) => taskIdForPosition(position));

describe('submitRun on DynamoDB Local', () => {
  let database: TestDatabase;
  let runNumber = 0;
  const nextRunId = () => `submit-${++runNumber}`;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(() => database.close());

  const depsWith = (sender: TaskSender, concurrency = 4): SubmitRunDependencies => ({
    documentClient: database.documentClient,
    tables: database.tables,
    sender,
    concurrency,
  });

  const readMeta = async (runId: string) => {
    const response = await database.documentClient.send(
      new GetCommand({
        TableName: database.tables.runs,
        Key: runMetaKey(runId),
        ConsistentRead: true,
      }),
    );

    return response.Item;
  };

  const readTasks = async (runId: string): Promise<TaskItem[]> => {
    const items: TaskItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await database.documentClient.send(
        new QueryCommand({
          TableName: database.tables.tasks,
          KeyConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': runId },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((page.Items ?? []) as TaskItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    return items;
  };

  const setTaskStatus = (runId: string, taskId: string, status: string) =>
    database.documentClient.send(
      new UpdateCommand({
        TableName: database.tables.tasks,
        Key: { runId, taskId },
        UpdateExpression: 'SET #status = :status, attempts = :attempts, lastError = :marker',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':attempts': 1, ':marker': 'set by test' },
      }),
    );

  it('writes the meta item, every row and every message, then marks the run running', async () => {
    const runId = nextRunId();
    const urls = urlsFor(250);
    const sender = new RecordingSender();

    const summary = await submitRun(depsWith(sender), {
      runId,
      source: sourceOf(urls, ['first-id']),
      total: urls.length,
      shardCount: 3,
    });

    expect(summary).toEqual({
      runId,
      total: 250,
      rowsWritten: 250,
      rowsExisting: 0,
      messagesSent: 250,
      resumed: false,
      status: RUN_STATUS.running,
    });
    expect(await readMeta(runId)).toMatchObject({ status: 'running', total: 250, shardCount: 3 });
    const tasks = await readTasks(runId);
    expect(tasks).toHaveLength(250);
    expect(tasks[0]).toMatchObject({
      taskId: 't000000000',
      url: urls[0],
      externalId: 'first-id',
      status: TASK_STATUS.pending,
      attempts: 0,
    });
    expect(tasks[1]?.externalId).toBeUndefined();
    expect(tasks.every((task) => task.counterShard === counterShardFor(task.taskId, 3))).toBe(true);
    expect(tasks.map((task) => task.url).sort()).toEqual([...urls].sort());
    expect(sender.sentTaskIds()).toEqual(taskIdsUpTo(250));
  });

  it('sends a task message only once the task row is stored', async () => {
    const runId = nextRunId();
    const urls = urlsFor(230);
    const unstoredWhenSent: string[] = [];
    const checkingSender: TaskSender = {
      sendTasks: async (tasks) => {
        for (const task of tasks) {
          const row = await database.documentClient.send(
            new GetCommand({ TableName: database.tables.tasks, Key: task, ConsistentRead: true }),
          );
          if (row.Item === undefined) unstoredWhenSent.push(task.taskId);
        }
      },
    };

    await submitRun(depsWith(checkingSender), { runId, source: sourceOf(urls), total: 230 });

    expect(unstoredWhenSent).toEqual([]);
  });

  it('resumes an interrupted submission without overwriting tasks that moved on', async () => {
    const runId = nextRunId();
    const urls = urlsFor(250);
    const request = { runId, source: sourceOf(urls), total: urls.length };
    const failing = new RecordingSender(2);
    await expect(submitRun(depsWith(failing, 1), request)).rejects.toThrow(SubmitIncompleteError);
    expect(await readMeta(runId)).toMatchObject({ status: RUN_STATUS.submitting });
    expect(await readTasks(runId)).toHaveLength(200);
    await setTaskStatus(runId, taskIdForPosition(0), TASK_STATUS.successful);
    await setTaskStatus(runId, taskIdForPosition(1), TASK_STATUS.failed);
    await setTaskStatus(runId, taskIdForPosition(150), TASK_STATUS.processing);

    const sender = new RecordingSender();
    const summary = await submitRun(depsWith(sender), request);

    expect(summary).toMatchObject({
      rowsWritten: 50,
      rowsExisting: 200,
      messagesSent: 247,
      resumed: true,
      status: RUN_STATUS.running,
    });
    const tasks = new Map((await readTasks(runId)).map((task) => [task.taskId, task]));
    expect(tasks.size).toBe(250);
    expect(tasks.get(taskIdForPosition(0))).toMatchObject({ status: 'successful', attempts: 1 });
    expect(tasks.get(taskIdForPosition(1))).toMatchObject({ status: 'failed', attempts: 1 });
    expect(tasks.get(taskIdForPosition(150))).toMatchObject({ status: 'processing' });
    const notPending = [0, 1, 150].map(taskIdForPosition);
    expect(sender.sentTaskIds()).toEqual(
      taskIdsUpTo(250).filter((taskId) => !notPending.includes(taskId)),
    );
    expect(await readMeta(runId)).toMatchObject({ status: RUN_STATUS.running });
  });

  it('refuses a re-submission with another total and changes nothing', async () => {
    const runId = nextRunId();
    const urls = urlsFor(30);
    await submitRun(depsWith(new RecordingSender()), { runId, source: sourceOf(urls), total: 30 });
    const sender = new RecordingSender();

    const resubmission = submitRun(depsWith(sender), {
      runId,
      source: sourceOf(urlsFor(31)),
      total: 31,
    });

    await expect(resubmission).rejects.toThrow(RunMismatchError);
    await expect(resubmission).rejects.toThrow(/total is 30 in the run but 31 in this submission/);
    expect(sender.sent).toEqual([]);
    expect(await readTasks(runId)).toHaveLength(30);
  });

  it('refuses to resume with a different URL at the same position', async () => {
    const runId = nextRunId();
    const urls = urlsFor(40);
    const request = { runId, source: sourceOf(urls), total: 40 };
    await expect(submitRun(depsWith(new RecordingSender(1)), request)).rejects.toThrow(
      SubmitIncompleteError,
    );
    const changed = [...urls];
    changed[7] = 'https://example.test/other';

    const resubmission = submitRun(depsWith(new RecordingSender()), {
      ...request,
      source: sourceOf(changed),
    });

    await expect(resubmission).rejects.toThrow(RunMismatchError);
    await expect(resubmission).rejects.toThrow(/URL of task t000000007 \(input line 8\)/);
    expect(await readMeta(runId)).toMatchObject({ status: RUN_STATUS.submitting });
  });

  it('leaves a running run alone when it is submitted again', async () => {
    const runId = nextRunId();
    const urls = urlsFor(20);
    await submitRun(depsWith(new RecordingSender()), { runId, source: sourceOf(urls), total: 20 });
    const sender = new RecordingSender();

    const summary = await submitRun(depsWith(sender), { runId, source: sourceOf(urls), total: 20 });

    expect(summary).toMatchObject({ rowsWritten: 0, messagesSent: 0, resumed: true });
    expect(summary.status).toBe(RUN_STATUS.running);
    expect(sender.sent).toEqual([]);
  });

  it('stops at the declared total when the source yields more tasks', async () => {
    const runId = nextRunId();
    const sender = new RecordingSender();

    const submission = submitRun(depsWith(sender, 1), {
      runId,
      source: sourceOf(urlsFor(130)),
      total: 120,
    });

    await expect(submission).rejects.toThrow(SourceCountMismatchError);
    await expect(submission).rejects.toThrow(/yielded at least 121 tasks but total is 120/);
    const taskIds = (await readTasks(runId)).map((task) => task.taskId);
    expect(taskIds.length).toBeGreaterThan(0);
    expect(taskIds.every((taskId) => taskId < taskIdForPosition(120))).toBe(true);
    expect(await readMeta(runId)).toMatchObject({ status: RUN_STATUS.submitting });
  });

  it('does not mark the run running when the source yields fewer tasks', async () => {
    const runId = nextRunId();

    const submission = submitRun(depsWith(new RecordingSender()), {
      runId,
      source: sourceOf(urlsFor(90)),
      total: 100,
    });

    await expect(submission).rejects.toThrow(/yielded 90 tasks but total is 100/);
    expect(await readMeta(runId)).toMatchObject({ status: RUN_STATUS.submitting });
  });

  it('keeps a row that a concurrent submission stored between the read and the write', async () => {
    const runId = nextRunId();
    const urls = urlsFor(10);
    await seedSubmittingRun(runId, urls.length);
    const racingClient = beforeFirstTransaction(database.documentClient, () =>
      database.documentClient.send(
        new PutCommand({
          TableName: database.tables.tasks,
          Item: { runId, taskId: taskIdForPosition(4), url: urls[4], status: 'successful' },
        }),
      ),
    );
    const sender = new RecordingSender();

    const summary = await submitRun(
      { ...depsWith(sender), documentClient: racingClient },
      { runId, source: sourceOf(urls), total: urls.length },
    );

    expect(summary).toMatchObject({ rowsWritten: 9, rowsExisting: 1, status: RUN_STATUS.running });
    const tasks = new Map((await readTasks(runId)).map((task) => [task.taskId, task]));
    expect(tasks.get(taskIdForPosition(4))?.status).toBe(TASK_STATUS.successful);
    expect(sender.sentTaskIds()).toEqual(
      taskIdsUpTo(10).filter((taskId) => taskId !== taskIdForPosition(4)),
    );
  });

  /** A run whose meta item was written but none of its task rows. */
  const seedSubmittingRun = (runId: string, total: number) =>
    database.documentClient.send(
      new PutCommand({
        TableName: database.tables.runs,
        Item: {
          ...runMetaKey(runId),
          status: RUN_STATUS.submitting,
          total,
          shardCount: DEFAULT_COUNTER_SHARDS,
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        },
      }),
    );
});

/**
 * Wraps a document client so that `beforeWrite` runs once, just before the
 * first TransactWriteItems goes out: in the window between reading which rows
 * exist and writing the missing ones.
 */
const beforeFirstTransaction = (
  client: DynamoDBDocumentClient,
  beforeWrite: () => Promise<unknown>,
): DynamoDBDocumentClient => {
  let done = false;
  const send = async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
    if (!done && command instanceof TransactWriteCommand) {
      done = true;
      await beforeWrite();
    }

    return client.send(command);
  };

  return { send } as unknown as DynamoDBDocumentClient;
};
