/**
 * The simulation's checker, Jepsen-style: it compares what was submitted with
 * what the tables, the result store and the completion events hold once a
 * scenario is over, and lists every anomaly by kind.
 */
import { counterViolations } from '../../lambdas/domain/progress';
import type { RunCompletedDetail } from '../../lambdas/domain/ports';
import { DEAD_LETTER_ARCHIVE_PREFIX } from '../../lambdas/domain/result-keys';
import {
  isTerminalStatus,
  RUN_STATUS,
  type RunCounters,
  type RunStatus,
} from '../../lambdas/domain/schema';

export const VIOLATION = {
  /** A submitted task that is not terminal, or is terminal but not counted. */
  lost: 'lost',
  /** A task counted more than once (a counter shard above its terminal rows). */
  settledTwice: 'settled-twice',
  /** A task row, or a result, for a task that was never submitted. */
  unexpected: 'unexpected',
  /** A counter sample breaking `successful + failed = completed ≤ total`. */
  counterBounds: 'counter-bounds',
  /** The run was not completed within the liveness bound after the faults stopped. */
  notCompleted: 'not-completed',
  /** A successful task whose result object is missing. */
  missingResult: 'missing-result',
  /** Two calls to the target for the same task in flight at once. */
  concurrentTargetCalls: 'concurrent-target-calls',
  /** The run completed but no completion event, or one with other counters, was published. */
  completionEvent: 'completion-event',
} as const;

export type ViolationKind = (typeof VIOLATION)[keyof typeof VIOLATION];

export interface Violation {
  readonly kind: ViolationKind;
  readonly detail: string;
}

/** A task row as the checker reads it. */
export interface ObservedTask {
  readonly taskId: string;
  readonly status: string;
  readonly counterShard: number;
  readonly resultKey?: string;
}

/** A counter shard item as the checker reads it. */
export interface ObservedShard {
  readonly shard: number;
  readonly completed: number;
  readonly successful: number;
  readonly failed: number;
}

/** Everything the checker looks at after a scenario. */
export interface Observation {
  readonly submittedTaskIds: readonly string[];
  readonly tasks: readonly ObservedTask[];
  readonly shards: readonly ObservedShard[];
  readonly runStatus: RunStatus | undefined;
  /** Counters sampled while the run was going on, and at the end. */
  readonly counterSamples: readonly RunCounters[];
  readonly resultKeys: ReadonlySet<string>;
  readonly completionEvents: readonly RunCompletedDetail[];
  readonly concurrentTargetCalls: number;
}

const countBy = <T>(items: readonly T[], key: (item: T) => number) => {
  const counts = new Map<number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);

  return counts;
};

const checkTasks = (observation: Observation): Violation[] => {
  const submitted = new Set(observation.submittedTaskIds);
  const seen = new Set(observation.tasks.map((task) => task.taskId));
  const violations: Violation[] = [];

  for (const taskId of submitted) {
    if (!seen.has(taskId))
      violations.push({ kind: VIOLATION.lost, detail: `${taskId} has no row` });
  }
  for (const task of observation.tasks) {
    if (!submitted.has(task.taskId)) {
      violations.push({
        kind: VIOLATION.unexpected,
        detail: `row ${task.taskId} was never submitted`,
      });
    } else if (!isTerminalStatus(task.status)) {
      violations.push({ kind: VIOLATION.lost, detail: `${task.taskId} ended ${task.status}` });
    } else if (task.status === 'successful' && !observation.resultKeys.has(task.resultKey ?? '')) {
      violations.push({ kind: VIOLATION.missingResult, detail: `${task.taskId} has no result` });
    }
  }

  return violations;
};

const checkResults = (observation: Observation): Violation[] => {
  const submitted = new Set(observation.submittedTaskIds);

  return [...observation.resultKeys]
    .filter((key) => !key.startsWith(DEAD_LETTER_ARCHIVE_PREFIX))
    .filter((key) => !submitted.has(key.split('/').pop() ?? ''))
    .map((key) => ({ kind: VIOLATION.unexpected, detail: `result ${key} belongs to no task` }));
};

/** Per shard: a counter above its terminal rows is a double count, below is a lost count. */
const checkShards = (observation: Observation): Violation[] => {
  const terminal = observation.tasks.filter((task) => isTerminalStatus(task.status));
  const rowsByShard = countBy(terminal, (task) => task.counterShard);
  const countedByShard = new Map(observation.shards.map((shard) => [shard.shard, shard.completed]));
  const shardIds = new Set([...rowsByShard.keys(), ...countedByShard.keys()]);
  const violations: Violation[] = [];

  for (const shard of shardIds) {
    const rows = rowsByShard.get(shard) ?? 0;
    const counted = countedByShard.get(shard) ?? 0;
    if (counted > rows) {
      violations.push({
        kind: VIOLATION.settledTwice,
        detail: `shard ${shard} counted ${counted} completions for ${rows} terminal tasks`,
      });
    } else if (counted < rows) {
      violations.push({
        kind: VIOLATION.lost,
        detail: `shard ${shard} counted ${counted} completions for ${rows} terminal tasks`,
      });
    }
  }

  return violations;
};

const checkCounterSamples = (observation: Observation): Violation[] => {
  const broken = observation.counterSamples.flatMap(counterViolations);

  return [...new Set(broken)].map((detail) => ({ kind: VIOLATION.counterBounds, detail }));
};

const checkCompletion = (observation: Observation): Violation[] => {
  if (observation.runStatus !== RUN_STATUS.completed) {
    return [{ kind: VIOLATION.notCompleted, detail: `run ended ${observation.runStatus}` }];
  }
  const final = observation.counterSamples.at(-1);
  const event = observation.completionEvents[0];
  if (!event) return [{ kind: VIOLATION.completionEvent, detail: 'no completion event' }];
  if (final && (event.completed !== final.completed || event.successful !== final.successful)) {
    return [
      {
        kind: VIOLATION.completionEvent,
        detail: `event says ${event.completed} completed, counters say ${final.completed}`,
      },
    ];
  }

  return [];
};

/** Every anomaly of one scenario; empty when the run was exactly right. */
export const checkObservation = (observation: Observation): Violation[] => {
  const violations = [
    ...checkTasks(observation),
    ...checkResults(observation),
    ...checkShards(observation),
    ...checkCounterSamples(observation),
    ...checkCompletion(observation),
  ];
  if (observation.concurrentTargetCalls > 0) {
    violations.push({
      kind: VIOLATION.concurrentTargetCalls,
      detail: `${observation.concurrentTargetCalls} target calls overlapped another for the same task`,
    });
  }

  return violations;
};
