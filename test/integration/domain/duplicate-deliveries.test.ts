import fc from 'fast-check';
import { auditRun } from '../../../lambdas/domain/progress';
import { MESSAGE_OUTCOME, processTaskMessage } from '../../../lambdas/domain/worker';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import { fakeFetch, gatewayFailure } from '../../helpers/fakes';
import { seedRun } from '../../helpers/runs';
import { remainingTime, taskMessage, testWorker } from '../../helpers/worker-deps';

const TASKS = 200;
const CONCURRENCY = 16;

/** Runs `work` over `items` with at most `limit` in flight. */
const inPool = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
};

describe('a run with random duplicate deliveries', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(() => database.close());

  it('ends with counters equal to the task rows, every task settled once', async () => {
    const runId = 'duplicates-200';
    const urls = Array.from({ length: TASKS }, (_, index) => `https://site.example/${index}`);
    const taskIds = await seedRun(database, runId, urls);
    const copies = fc.sample(fc.integer({ min: 1, max: 4 }), { numRuns: TASKS, seed: 42 });
    const fetchPage = fakeFetch({
      delayMs: 2,
      fail: (url) => (url.endsWith('7') ? gatewayFailure('404', false) : undefined),
    });
    const worker = testWorker(database, { fetchPage });
    let deliveries = taskIds.flatMap((taskId, index) =>
      Array.from({ length: copies[index]! }, (_, copy) => taskMessage(runId, taskId, copy)),
    );
    deliveries = fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
      numRuns: 1,
      seed: 7,
    })[0]!;

    let pending = deliveries;
    for (let wave = 0; pending.length > 0 && wave < 10; wave++) {
      const retry: typeof deliveries = [];
      await inPool(pending, CONCURRENCY, async (message) => {
        const outcome = await processTaskMessage(worker.deps, message, remainingTime());
        if (outcome === MESSAGE_OUTCOME.retryLater) retry.push(message);
      });
      pending = retry;
    }

    const audit = await auditRun(database, runId);
    expect(pending).toEqual([]);
    expect(audit.problems).toEqual([]);
    expect(audit.counters.completed).toBe(TASKS);
    expect(audit.counters.failed).toBe(urls.filter((url) => url.endsWith('7')).length);
    expect(fetchPage.calls).toHaveLength(TASKS);
    expect(worker.metrics.get('SettledSuccessful') + worker.metrics.get('SettledFailed')).toBe(
      TASKS,
    );
  });
});
