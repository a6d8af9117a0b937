/**
 * The settings of `npm start`: a run over the local demo site whose slow pages
 * outlast the task queue's visibility timeout, so messages really are
 * delivered again while their first worker is still busy, and the task
 * protocol has to suppress the duplicates.
 */
import { startDemoSite, demoUrls, type DemoSite } from './demo-site';
import type { LocalPipelineOptions } from './pipeline';

export const DEMO = {
  tasks: 600,
  /** The task queue's visibility timeout. */
  visibilityTimeoutMs: 2_000,
  /** Slow pages answer after this long: longer than the visibility timeout. */
  slowPageMs: 3_000,
  /** The worker's "Lambda timeout": longer than a slow page. */
  invocationTimeoutMs: 5_000,
  /** One SQS second (back-offs, Retry-After, lease deferrals) lasts this long. */
  msPerSecond: 250,
  batchSize: 2,
  maximumConcurrency: 16,
  /** Reserve for storing and settling, of the 5 s invocation. */
  settleReserveMs: 1_000,
} as const;

/** The pipeline options of the demo (callers may override any of them). */
export const demoPipelineOptions = (): LocalPipelineOptions => ({
  visibilityTimeoutMs: DEMO.visibilityTimeoutMs,
  invocationTimeoutMs: DEMO.invocationTimeoutMs,
  msPerSecond: DEMO.msPerSecond,
  batchSize: DEMO.batchSize,
  maximumConcurrency: DEMO.maximumConcurrency,
  workerSettings: { settleReserveMs: DEMO.settleReserveMs },
});

export interface DemoRun {
  readonly site: DemoSite;
  readonly urls: readonly string[];
}

/** Starts the demo site and lists `tasks` of its pages in the default mix. */
export const startDemo = async (tasks: number): Promise<DemoRun> => {
  const site = await startDemoSite({ slowDelayMs: DEMO.slowPageMs });

  return { site, urls: demoUrls(site.baseUrl, tasks) };
};
