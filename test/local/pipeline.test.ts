import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auditRun } from '../../lambdas/domain/progress';
import { METRIC } from '../../lambdas/metrics';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline';
import { RunWaitTimeoutError } from '../../local/pipeline-errors';
import { testEndpoint } from '../helpers/dynamodb';

const SLOW_PAGE_MS = 700;
const VISIBILITY_TIMEOUT_MS = 400;

/** A small site: /ok/*, /slow/* (slower than the visibility timeout), /flaky/* (503 once), /missing/*. */
const startSite = async (): Promise<{ server: Server; origin: string }> => {
  const flakyHits = new Set<string>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const reply = (status: number) => response.writeHead(status).end(`page ${path}`);
    if (path.startsWith('/slow/')) {
      setTimeout(() => reply(200), SLOW_PAGE_MS);
    } else if (path.startsWith('/flaky/') && !flakyHits.has(path)) {
      flakyHits.add(path);
      reply(503);
    } else {
      reply(path.startsWith('/missing/') ? 404 : 200);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

const pagesFor = (origin: string) =>
  Array.from({ length: 30 }, (_, index) => {
    const kind =
      index % 10 === 3 ? 'slow' : index % 10 === 5 ? 'flaky' : index === 7 ? 'missing' : 'ok';

    return { url: `${origin}/${kind}/${index}`, line: index + 1 };
  });

describe('startLocalPipeline', () => {
  let site: { server: Server; origin: string };
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    site = await startSite();
    pipeline = await startLocalPipeline({
      dynamoDbEndpoint: testEndpoint(),
      visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
      invocationTimeoutMs: 1_500,
      msPerSecond: 100,
      workerSettings: { settleReserveMs: 300 },
      batchSize: 5,
      maximumConcurrency: 4,
    });
  });

  afterAll(async () => {
    await pipeline.stop();
    site.server.close();
  });

  it('runs slow, flaky and missing pages to completion with every invariant holding', async () => {
    const inputs = pagesFor(site.origin);

    const submitted = await pipeline.submit('pipeline-test', inputs);
    const progress = await pipeline.waitForRun('pipeline-test', { timeoutMs: 20_000 });
    const audit = await auditRun(pipeline, 'pipeline-test');

    expect(submitted.total).toBe(30);
    expect(progress.counters).toEqual({ total: 30, completed: 30, successful: 29, failed: 1 });
    expect(audit.problems).toEqual([]);
    expect(audit.rows).toMatchObject({ total: 30, successful: 29, failed: 1, pending: 0 });
    expect(pipeline.completedEvents).toEqual([
      expect.objectContaining({ runId: 'pipeline-test', total: 30, completed: 30 }),
    ]);
  });

  it('redelivers slow tasks and suppresses the duplicates instead of counting them', () => {
    const counts = pipeline.metrics.snapshot();
    const queue = pipeline.taskQueue.stats();

    expect(queue.deliveries).toBeGreaterThan(queue.sent);
    expect(counts[METRIC.leaseDeferrals]).toBeGreaterThan(0);
    expect(counts[METRIC.suppressedDuplicates]).toBeGreaterThan(0);
    expect(counts[METRIC.settledSuccessful] + counts[METRIC.settledFailed]).toBe(30);
    expect(counts[METRIC.released]).toBeGreaterThanOrEqual(3);
  });

  it('rejects waitForRun with the progress so far when the run does not complete in time', async () => {
    const waiting = pipeline.waitForRun('no-such-run', { timeoutMs: 50 });

    await expect(waiting).rejects.toBeInstanceOf(RunWaitTimeoutError);
    await expect(waiting).rejects.toMatchObject({ progress: { meta: undefined } });
  });
});
