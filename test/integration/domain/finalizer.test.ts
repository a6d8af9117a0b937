import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FINALIZE_OUTCOME, finalizeRun } from '../../../lambdas/domain/finalizer';
import { CLAIM_OUTCOME, claimTask } from '../../../lambdas/domain/protocol/claim';
import { settleTask } from '../../../lambdas/domain/protocol/settle';
import { counterShardKey, runMetaKey } from '../../../lambdas/domain/schema';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import { CountingMetrics, quietLogger, RecordingPublisher } from '../../helpers/fakes';
import { seedRun } from '../../helpers/runs';

describe('finalizer on DynamoDB Local', () => {
  let database: TestDatabase;
  let events: RecordingPublisher;
  let metrics: CountingMetrics;
  const deps = () => ({
    documentClient: database.documentClient,
    tables: database.tables,
    events,
    metrics,
    clock: Date.now,
    logger: quietLogger,
  });

  const settleAll = async (runId: string, taskIds: readonly string[]) => {
    for (const taskId of taskIds) {
      const claim = await claimTask(deps(), { runId, taskId, leaseDurationMs: 60_000 });
      if (claim.kind !== CLAIM_OUTCOME.claimed) throw new Error(claim.kind);
      await settleTask(deps(), {
        ...claim.task,
        leaseOwner: claim.leaseOwner,
        status: 'successful',
      });
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  beforeEach(() => {
    events = new RecordingPublisher();
    metrics = new CountingMetrics();
  });

  afterAll(() => database.close());

  it('completes a finished run exactly once under repeated and concurrent stream batches', async () => {
    const taskIds = await seedRun(database, 'fin-done', ['https://a.example', 'https://b.example']);
    await settleAll('fin-done', taskIds);

    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => finalizeRun(deps(), 'fin-done')),
    );
    const again = await finalizeRun(deps(), 'fin-done');

    const { Item } = await database.documentClient.send(
      new GetCommand({ TableName: database.tables.runs, Key: runMetaKey('fin-done') }),
    );
    expect(outcomes.filter((outcome) => outcome === FINALIZE_OUTCOME.completed)).toHaveLength(1);
    expect(again).toBe(FINALIZE_OUTCOME.alreadyCompleted);
    expect(Item).toMatchObject({ status: 'completed', completionPublishedAt: expect.any(String) });
    expect(events.published[0]).toMatchObject({
      runId: 'fin-done',
      total: 2,
      successful: 2,
      failed: 0,
    });
    expect(metrics.get('RunsCompleted')).toBe(1);
  });

  it('leaves an unfinished run running', async () => {
    const taskIds = await seedRun(database, 'fin-half', ['https://a.example', 'https://b.example']);
    await settleAll('fin-half', taskIds.slice(0, 1));

    expect(await finalizeRun(deps(), 'fin-half')).toBe(FINALIZE_OUTCOME.inProgress);
    expect(events.published).toEqual([]);
  });

  it('waits for submission to finish before completing', async () => {
    const taskIds = await seedRun(database, 'fin-submitting', ['https://a.example'], {
      status: 'submitting',
    });
    await settleAll('fin-submitting', taskIds);

    expect(await finalizeRun(deps(), 'fin-submitting')).toBe(FINALIZE_OUTCOME.inProgress);
  });

  it('publishes the completion again when a finalizer died between completing and publishing', async () => {
    const taskIds = await seedRun(database, 'fin-unpublished', ['https://a.example']);
    await settleAll('fin-unpublished', taskIds);
    const dying = {
      ...deps(),
      events: { publishRunCompleted: () => Promise.reject(new Error('killed')) },
    };
    await expect(finalizeRun(dying, 'fin-unpublished')).rejects.toThrow('killed');

    const outcome = await finalizeRun(deps(), 'fin-unpublished');

    expect(outcome).toBe(FINALIZE_OUTCOME.alreadyCompleted);
    expect(events.published).toHaveLength(1);
  });

  it('reports a violation when counters are corrupted by hand, and does not complete the run', async () => {
    const taskIds = await seedRun(database, 'fin-corrupt', ['https://a.example']);
    await settleAll('fin-corrupt', taskIds);
    await database.documentClient.send(
      new UpdateCommand({
        TableName: database.tables.runs,
        Key: counterShardKey('fin-corrupt', 0),
        UpdateExpression: 'ADD successful :two, completed :two',
        ExpressionAttributeValues: { ':two': 2 },
      }),
    );

    const outcome = await finalizeRun(deps(), 'fin-corrupt');

    expect(outcome).toBe(FINALIZE_OUTCOME.violated);
    expect(metrics.get('InvariantViolations')).toBe(1);
    expect(events.published).toEqual([]);
  });
});
