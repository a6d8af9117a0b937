import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { processDeadLetter } from '../../../lambdas/domain/dead-letter';
import { CLAIM_OUTCOME, claimTask } from '../../../lambdas/domain/protocol/claim';
import { settleTask } from '../../../lambdas/domain/protocol/settle';
import { readProgress } from '../../../lambdas/domain/progress';
import { MESSAGE_OUTCOME } from '../../../lambdas/domain/worker';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import {
  CountingMetrics,
  MemoryResultStore,
  quietLogger,
  RecordingQueue,
} from '../../helpers/fakes';
import { seedRun } from '../../helpers/runs';
import { remainingTime, taskMessage } from '../../helpers/worker-deps';

describe('dead-letter handling on DynamoDB Local', () => {
  let database: TestDatabase;
  let queue: RecordingQueue;
  let archive: MemoryResultStore;
  const deps = () => ({
    documentClient: database.documentClient,
    tables: database.tables,
    queue,
    archive,
    clock: Date.now,
    logger: quietLogger,
    metrics: new CountingMetrics(),
  });

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  beforeEach(() => {
    queue = new RecordingQueue();
    archive = new MemoryResultStore();
  });

  afterAll(() => database.close());

  it('settles a task that is not terminal as failed, so the run still completes', async () => {
    const [taskId] = await seedRun(database, 'dlq-pending', ['https://example.com/a']);

    const outcome = await processDeadLetter(
      deps(),
      { ...taskMessage('dlq-pending', taskId!), receiveCount: 20 },
      remainingTime(),
    );

    const { Item } = await database.documentClient.send(
      new GetCommand({ TableName: database.tables.tasks, Key: { runId: 'dlq-pending', taskId } }),
    );
    expect(outcome).toBe(MESSAGE_OUTCOME.acknowledge);
    expect(Item).toMatchObject({ status: 'failed', lastError: 'dead-lettered after 20 receives' });
    expect((await readProgress(database, 'dlq-pending')).counters).toEqual({
      total: 1,
      completed: 1,
      successful: 0,
      failed: 1,
    });
  });

  it('leaves a terminal task and its counters alone', async () => {
    const [taskId] = await seedRun(database, 'dlq-terminal', ['https://example.com/a']);
    const claim = await claimTask(
      { ...deps() },
      { runId: 'dlq-terminal', taskId: taskId!, leaseDurationMs: 60_000 },
    );
    if (claim.kind !== CLAIM_OUTCOME.claimed) throw new Error(claim.kind);
    await settleTask(deps(), { ...claim.task, leaseOwner: claim.leaseOwner, status: 'successful' });

    const outcome = await processDeadLetter(
      deps(),
      taskMessage('dlq-terminal', taskId!),
      remainingTime(),
    );

    expect(outcome).toBe(MESSAGE_OUTCOME.acknowledge);
    expect((await readProgress(database, 'dlq-terminal')).counters).toMatchObject({
      completed: 1,
      successful: 1,
      failed: 0,
    });
  });

  it('waits for a live lease instead of settling under a working holder', async () => {
    const [taskId] = await seedRun(database, 'dlq-leased', ['https://example.com/a']);
    await claimTask(deps(), { runId: 'dlq-leased', taskId: taskId!, leaseDurationMs: 30_000 });

    const message = taskMessage('dlq-leased', taskId!);
    const outcome = await processDeadLetter(deps(), message, remainingTime());

    expect(outcome).toBe(MESSAGE_OUTCOME.retryLater);
    expect(queue.visibilityChanges).toEqual([
      { receiptHandle: message.receiptHandle, seconds: expect.any(Number) },
    ]);
    expect(queue.visibilityChanges[0]!.seconds).toBeGreaterThanOrEqual(30);
    expect((await readProgress(database, 'dlq-leased')).counters.completed).toBe(0);
  });

  it.each([
    ['an unreadable body', 'not json at all'],
    ['an unknown task', JSON.stringify({ runId: 'dlq-none', taskId: 'ghost' })],
  ])('archives %s and acknowledges it', async (_label, body) => {
    const outcome = await processDeadLetter(
      deps(),
      { messageId: 'm-1', receiptHandle: 'r-1', body },
      remainingTime(),
    );

    const archived = archive.objects.get('dead-letters/m-1.json');
    expect(outcome).toBe(MESSAGE_OUTCOME.acknowledge);
    expect(JSON.parse(Buffer.from(archived!.body).toString())).toMatchObject({
      messageId: 'm-1',
      body,
    });
  });
});
