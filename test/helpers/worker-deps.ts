import {
  DEFAULT_WORKER_SETTINGS,
  type WorkerDeps,
  type WorkerSettings,
} from '../../lambdas/domain/worker';
import type { Clock, FetchPage } from '../../lambdas/domain/ports';
import type { TestDatabase } from './dynamodb';
import {
  CountingMetrics,
  fakeFetch,
  MemoryResultStore,
  quietLogger,
  RecordingQueue,
} from './fakes';

export interface TestWorker {
  readonly deps: WorkerDeps;
  readonly queue: RecordingQueue;
  readonly results: MemoryResultStore;
  readonly metrics: CountingMetrics;
}

/** Worker dependencies on the test database with recording fakes for everything else. */
export const testWorker = (
  database: TestDatabase,
  overrides: { fetchPage?: FetchPage; clock?: Clock; settings?: Partial<WorkerSettings> } = {},
): TestWorker => {
  const queue = new RecordingQueue();
  const results = new MemoryResultStore();
  const metrics = new CountingMetrics();
  const deps: WorkerDeps = {
    documentClient: database.documentClient,
    tables: database.tables,
    queue,
    results,
    fetchPage: overrides.fetchPage ?? fakeFetch(),
    clock: overrides.clock ?? Date.now,
    logger: quietLogger,
    metrics,
    settings: { ...DEFAULT_WORKER_SETTINGS, ...overrides.settings },
  };

  return { deps, queue, results, metrics };
};

/** A message for a task, as the event source would hand it over. */
export const taskMessage = (runId: string, taskId: string, delivery = 0) => ({
  messageId: `${runId}-${taskId}-${delivery}`,
  receiptHandle: `receipt-${runId}-${taskId}-${delivery}`,
  body: JSON.stringify({ runId, taskId }),
});

/** A remaining-time function like a Lambda context's, for an invocation of `ms`. */
export const remainingTime =
  (ms = 60_000) =>
  () =>
    ms;
