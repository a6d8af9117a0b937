/**
 * The end-of-run summary of a local run: counts from the run's counters, what
 * the queues and handlers did, and the invariants checked by recounting the
 * task rows ({@link auditRun}).
 */
import type { RunAudit } from '../lambdas/domain/progress';
import { METRIC } from '../lambdas/metrics';
import type { LocalPipeline } from './pipeline';

export interface RunInvariants {
  /** `successful + failed = completed = total`. */
  readonly countsAddUp: boolean;
  /** The counters equal the task rows in each terminal state, and there are `total` rows. */
  readonly countersMatchRows: boolean;
  /** Every broken invariant and disagreement, one sentence each. */
  readonly problems: readonly string[];
}

export interface RunSummary {
  readonly runId: string;
  readonly total: number;
  readonly completed: number;
  readonly successful: number;
  readonly failed: number;
  /** Receives of task messages by the worker. */
  readonly deliveries: number;
  /** Receives beyond the first of each sent message (expired visibility, deferrals, retries). */
  readonly redeliveries: number;
  /** Deliveries of an already settled task, and settles that lost the race. */
  readonly suppressedDuplicates: number;
  /** Deliveries hidden while another worker held the task's lease. */
  readonly leaseDeferrals: number;
  /** Fetches of target pages. */
  readonly targetCalls: number;
  /** Tasks released for another attempt after a retryable failure. */
  readonly retries: number;
  /** Messages that reached the dead-letter queue (redriven or poison). */
  readonly deadLettered: number;
  /** Worker invocations that outlived their timeout. */
  readonly invocationTimeouts: number;
  /** From the start of submission to the run's completion (start-up not included). */
  readonly wallTimeMs: number;
  readonly tasksPerSecond: number;
  readonly invariants: RunInvariants;
}

/** Builds the summary of a finished run from the pipeline's counts and an audit of the run. */
export const summarizeRun = (
  pipeline: LocalPipeline,
  runId: string,
  audit: RunAudit,
  wallTimeMs: number,
): RunSummary => {
  const counts = pipeline.metrics.snapshot();
  const queue = pipeline.taskQueue.stats();
  const { counters, rows } = audit;

  const countsAddUp =
    counters.successful + counters.failed === counters.completed &&
    counters.completed === counters.total;
  const countersMatchRows =
    rows.total === counters.total &&
    rows.successful === counters.successful &&
    rows.failed === counters.failed;
  const problems = [...audit.problems];
  if (counters.completed !== counters.total) {
    problems.push(`completed (${counters.completed}) != total (${counters.total})`);
  }

  return {
    runId,
    ...counters,
    deliveries: counts[METRIC.deliveries],
    redeliveries: Math.max(0, queue.deliveries - queue.sent),
    suppressedDuplicates: counts[METRIC.suppressedDuplicates],
    leaseDeferrals: counts[METRIC.leaseDeferrals],
    targetCalls: counts[METRIC.targetCalls],
    retries: counts[METRIC.released],
    deadLettered: queue.redriven + counts[METRIC.poisonMessages],
    invocationTimeouts: pipeline.stats().worker.timeouts,
    wallTimeMs,
    tasksPerSecond: wallTimeMs > 0 ? (counters.completed * 1_000) / wallTimeMs : 0,
    invariants: { countsAddUp, countersMatchRows, problems: [...new Set(problems)] },
  };
};

/** Whether every invariant of the summary holds. */
export const invariantsHold = (summary: RunSummary): boolean =>
  summary.invariants.countsAddUp &&
  summary.invariants.countersMatchRows &&
  summary.invariants.problems.length === 0;

const mark = (holds: boolean) => (holds ? 'holds' : 'BROKEN');

/** The summary as the lines the CLI prints. */
export const formatSummary = (summary: RunSummary): string[] => {
  const seconds = (summary.wallTimeMs / 1_000).toFixed(1);
  const { successful, failed, completed, total } = summary;

  return [
    `Run ${summary.runId}`,
    `  tasks               ${total} total, ${completed} completed: ${successful} successful, ${failed} failed`,
    `  deliveries          ${summary.deliveries} (${summary.redeliveries} redeliveries)`,
    `  suppressed dups     ${summary.suppressedDuplicates}`,
    `  lease deferrals     ${summary.leaseDeferrals}`,
    `  target calls        ${summary.targetCalls} (${summary.retries} retries)`,
    `  dead-lettered       ${summary.deadLettered}`,
    `  invocation timeouts ${summary.invocationTimeouts}`,
    `  wall time           ${seconds} s, ${summary.tasksPerSecond.toFixed(1)} tasks/s`,
    `  invariant           successful + failed = completed = total: ` +
      `${successful} + ${failed} = ${completed} = ${total} ${mark(summary.invariants.countsAddUp)}`,
    `  invariant           counters = task rows: ${mark(summary.invariants.countersMatchRows)}`,
    ...summary.invariants.problems.map((problem) => `  problem             ${problem}`),
  ];
};
