import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIM_OUTCOME, claimTask } from '../../../lambdas/domain/protocol/claim';
import { RELEASE_OUTCOME, releaseTask } from '../../../lambdas/domain/protocol/release';
import { SETTLE_OUTCOME, settleTask } from '../../../lambdas/domain/protocol/settle';
import { auditRun, readProgress } from '../../../lambdas/domain/progress';
import type { TaskItem } from '../../../lambdas/domain/schema';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import { quietLogger } from '../../helpers/fakes';
import { seedRun } from '../../helpers/runs';

const LEASE_MS = 60_000;

describe('task protocol on DynamoDB Local', () => {
  let database: TestDatabase;
  let now: number;
  const deps = () => ({
    documentClient: database.documentClient,
    tables: database.tables,
    clock: () => now,
    logger: quietLogger,
  });
  const readTask = async (runId: string, taskId: string) =>
    (
      await database.documentClient.send(
        new GetCommand({ TableName: database.tables.tasks, Key: { runId, taskId } }),
      )
    ).Item as TaskItem;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  beforeEach(() => {
    now = Date.now();
  });

  afterAll(() => database.close());

  it('claims a pending task and returns it with its URL and a lease', async () => {
    const [taskId] = await seedRun(database, 'claim-pending', ['https://example.com/1']);

    const outcome = await claimTask(deps(), {
      runId: 'claim-pending',
      taskId: taskId!,
      leaseDurationMs: LEASE_MS,
    });

    expect(outcome.kind).toBe(CLAIM_OUTCOME.claimed);
    if (outcome.kind !== CLAIM_OUTCOME.claimed) return;
    expect(outcome.task).toMatchObject({
      url: 'https://example.com/1',
      status: 'processing',
      attempts: 1,
      leaseOwner: outcome.leaseOwner,
      leaseExpiresAt: now + LEASE_MS,
    });
  });

  it('tells an unknown task, a settled task and a live lease apart', async () => {
    const runId = 'claim-failures';
    const [held, settled] = await seedRun(database, runId, [
      'https://a.example',
      'https://b.example',
    ]);
    await claimTask(deps(), { runId, taskId: held!, leaseDurationMs: LEASE_MS });
    const claim = await claimTask(deps(), { runId, taskId: settled!, leaseDurationMs: LEASE_MS });
    if (claim.kind !== CLAIM_OUTCOME.claimed) throw new Error('setup claim failed');
    await settleTask(deps(), { ...claim.task, leaseOwner: claim.leaseOwner, status: 'successful' });

    const unknown = await claimTask(deps(), { runId, taskId: 'nope', leaseDurationMs: LEASE_MS });
    const duplicate = await claimTask(deps(), {
      runId,
      taskId: settled!,
      leaseDurationMs: LEASE_MS,
    });
    const deferred = await claimTask(deps(), { runId, taskId: held!, leaseDurationMs: LEASE_MS });

    expect(unknown).toEqual({ kind: CLAIM_OUTCOME.unknownTask });
    expect(duplicate).toEqual({ kind: CLAIM_OUTCOME.alreadySettled, status: 'successful' });
    expect(deferred).toEqual({ kind: CLAIM_OUTCOME.leaseHeld, leaseExpiresAt: now + LEASE_MS });
  });

  it('lets a redelivery take over after the holder dies, and counts the task once', async () => {
    const runId = 'dead-holder';
    const [taskId] = await seedRun(database, runId, ['https://example.com/slow']);
    const dead = await claimTask(deps(), { runId, taskId: taskId!, leaseDurationMs: LEASE_MS });

    now += LEASE_MS + 1;
    const takeover = await claimTask(deps(), { runId, taskId: taskId!, leaseDurationMs: LEASE_MS });
    if (takeover.kind !== CLAIM_OUTCOME.claimed || dead.kind !== CLAIM_OUTCOME.claimed) {
      throw new Error(`expected two claims, got ${dead.kind} and ${takeover.kind}`);
    }
    const settled = await settleTask(deps(), {
      ...takeover.task,
      leaseOwner: takeover.leaseOwner,
      status: 'successful',
    });
    const lateSettle = await settleTask(deps(), {
      ...dead.task,
      leaseOwner: dead.leaseOwner,
      status: 'failed',
    });

    expect(takeover.task.attempts).toBe(2);
    expect(settled.kind).toBe(SETTLE_OUTCOME.settled);
    expect(lateSettle.kind).toBe(SETTLE_OUTCOME.lostRace);
    expect((await auditRun(database, runId)).problems).toEqual([]);
    expect((await readProgress(database, runId)).counters).toEqual({
      total: 1,
      completed: 1,
      successful: 1,
      failed: 0,
    });
  });

  it('counts a settle once when it is sent again after it committed', async () => {
    const runId = 'settle-twice';
    const [taskId] = await seedRun(database, runId, ['https://example.com/x']);
    const claim = await claimTask(deps(), { runId, taskId: taskId!, leaseDurationMs: LEASE_MS });
    if (claim.kind !== CLAIM_OUTCOME.claimed) throw new Error(claim.kind);
    const request = {
      ...claim.task,
      leaseOwner: claim.leaseOwner,
      status: 'successful' as const,
      result: { resultKey: 'results/x', httpStatus: 200, resultBytes: 10 },
    };

    const first = await settleTask(deps(), request);
    now += 5_000; // the caller saw a timeout and retries a little later
    const second = await settleTask(deps(), request);

    expect([first.kind, second.kind]).toEqual([SETTLE_OUTCOME.settled, SETTLE_OUTCOME.settled]);
    expect((await readProgress(database, runId)).counters.completed).toBe(1);
    expect(await readTask(runId, taskId!)).toMatchObject({
      status: 'successful',
      resultKey: 'results/x',
    });
  });

  it('releases only under the current lease, so a taken-over holder cannot undo the new one', async () => {
    const runId = 'release-fence';
    const [taskId] = await seedRun(database, runId, ['https://example.com/r']);
    const first = await claimTask(deps(), { runId, taskId: taskId!, leaseDurationMs: LEASE_MS });
    now += LEASE_MS + 1;
    const second = await claimTask(deps(), { runId, taskId: taskId!, leaseDurationMs: LEASE_MS });
    if (first.kind !== CLAIM_OUTCOME.claimed || second.kind !== CLAIM_OUTCOME.claimed)
      throw new Error('claims');

    const stale = await releaseTask(deps(), {
      runId,
      taskId: taskId!,
      leaseOwner: first.leaseOwner,
      error: 'late',
    });
    const current = await releaseTask(deps(), {
      runId,
      taskId: taskId!,
      leaseOwner: second.leaseOwner,
      error: '503',
    });

    expect(stale).toBe(RELEASE_OUTCOME.lostRace);
    expect(current).toBe(RELEASE_OUTCOME.released);
    expect(await readTask(runId, taskId!)).toMatchObject({
      status: 'pending',
      lastError: '503',
      attempts: 2,
    });
    expect((await readTask(runId, taskId!)).leaseOwner).toBeUndefined();
  });
});
