import { processTaskMessage } from '../../../lambdas/domain/worker';
import { readProgress } from '../../../lambdas/domain/progress';
import type { RunCounters } from '../../../lambdas/domain/schema';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import { fakeFetch, gatewayFailure } from '../../helpers/fakes';
import { naiveProcessTask } from '../../helpers/naive-worker';
import { seedRun } from '../../helpers/runs';
import { remainingTime, taskMessage, testWorker } from '../../helpers/worker-deps';

const DELIVERIES = 20;

const report = (label: string, counters: RunCounters, targetCalls: number) =>
  console.log(
    `${label}: ${DELIVERIES} concurrent deliveries -> total=${counters.total} ` +
      `completed=${counters.completed} successful=${counters.successful} ` +
      `failed=${counters.failed} targetCalls=${targetCalls}`,
  );

describe('the double-count race: concurrent deliveries of one task', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(() => database.close());

  it.each([
    ['success', undefined, { completed: 1, successful: 1, failed: 0 }],
    [
      'permanent failure',
      gatewayFailure('404 Not Found', false),
      { completed: 1, successful: 0, failed: 1 },
    ],
  ])('counts the task once on the %s path with conveyor', async (label, failure, expected) => {
    const runId = `guarded-${label.replace(' ', '-')}`;
    const [taskId] = await seedRun(database, runId, ['https://example.com/a']);
    const fetchPage = fakeFetch({ delayMs: 30, fail: () => failure });
    const worker = testWorker(database, { fetchPage });

    const outcomes = await Promise.all(
      Array.from({ length: DELIVERIES }, (_, delivery) =>
        processTaskMessage(worker.deps, taskMessage(runId, taskId!, delivery), remainingTime()),
      ),
    );

    const { counters } = await readProgress(database, runId);
    report(`conveyor (${label})`, counters, fetchPage.calls.length);
    expect(counters).toEqual({ total: 1, ...expected });
    expect(fetchPage.calls).toHaveLength(1);
    // Every other delivery either waited for the live lease or, arriving after
    // the settle, was acknowledged as a duplicate; none of them called the target.
    const acknowledged = outcomes.filter((outcome) => outcome === 'acknowledge').length;
    expect(acknowledged).toBe(1 + worker.metrics.get('SuppressedDuplicates'));
    expect(worker.queue.visibilityChanges).toHaveLength(DELIVERIES - acknowledged);
    expect(worker.metrics.get('LeaseDeferrals')).toBe(DELIVERIES - acknowledged);
  });

  it.each([
    ['success', undefined, 'successful'],
    ['permanent failure', new Error('404 Not Found'), 'failed'],
  ] as const)(
    'over-counts on the %s path with the naive read-then-ADD protocol',
    async (label, failure, field) => {
      const runId = `naive-${label.replace(' ', '-')}`;
      const [taskId] = await seedRun(database, runId, ['https://example.com/a']);
      const fetchPage = fakeFetch({ delayMs: 30, fail: () => failure });

      await Promise.all(
        Array.from({ length: DELIVERIES }, () =>
          naiveProcessTask(database, { runId, taskId: taskId! }, fetchPage),
        ),
      );

      const { counters } = await readProgress(database, runId);
      report(`naive (${label})`, counters, fetchPage.calls.length);
      expect(counters[field]).toBeGreaterThan(counters.total);
      expect(counters.completed).toBeGreaterThan(1);
    },
  );
});
