/**
 * The one definition of conveyor's two tables: names of keys and attributes,
 * the item shapes, and the key builders. The CDK stack, the Lambda handlers and
 * the local runtime all read this module, so they can never disagree.
 */

/** Default physical names, used by the local runtime and as stack defaults. */
export const DEFAULT_TABLE_NAMES = {
  runs: 'conveyor-runs',
  tasks: 'conveyor-tasks',
} as const;

/**
 * The runs table holds, under one partition per run, the run's meta item and
 * its counter shard items. Keeping them together lets one consistent Query
 * read a run's whole progress.
 */
export const RUNS_TABLE = {
  partitionKey: 'runId',
  sortKey: 'sk',
} as const;

/** The tasks table holds one row per task, under the run's partition. */
export const TASKS_TABLE = {
  partitionKey: 'runId',
  sortKey: 'taskId',
} as const;

/** Sort key of a run's meta item. */
export const RUN_META_SK = 'META';

/** Prefix of the sort key of a run's counter shard items. */
export const COUNTER_SHARD_SK_PREFIX = 'SHARD#';

/**
 * How many counter shard items a run gets unless told otherwise. One item
 * sustains about 1,000 WCU/s and a transactional settle costs 2 WCU on it, so a
 * run's settle rate is capped near 500/s per shard.
 */
export const DEFAULT_COUNTER_SHARDS = 4;

/** Upper bound on counter shards a run may ask for. */
export const MAX_COUNTER_SHARDS = 100;

export const TASK_STATUS = {
  pending: 'pending',
  processing: 'processing',
  successful: 'successful',
  failed: 'failed',
} as const;

export type TaskStatus = (typeof TASK_STATUS)[keyof typeof TASK_STATUS];

/** The statuses a task never leaves. */
export type TerminalStatus = typeof TASK_STATUS.successful | typeof TASK_STATUS.failed;

export const isTerminalStatus = (status: unknown): status is TerminalStatus =>
  status === TASK_STATUS.successful || status === TASK_STATUS.failed;

export const RUN_STATUS = {
  submitting: 'submitting',
  running: 'running',
  completed: 'completed',
} as const;

export type RunStatus = (typeof RUN_STATUS)[keyof typeof RUN_STATUS];

/** Identifies one task: the message body a worker receives. */
export interface TaskKey {
  readonly runId: string;
  readonly taskId: string;
}

/** A row of the tasks table. */
export interface TaskItem extends TaskKey {
  readonly url: string;
  readonly status: TaskStatus;
  /** How many times the task was claimed. */
  readonly attempts: number;
  /** The counter shard this task adds to when it settles. */
  readonly counterShard: number;
  /** Opaque token of the claim that holds (or last held) the task. */
  readonly leaseOwner?: string;
  /** Epoch milliseconds after which another worker may take the task over. */
  readonly leaseExpiresAt?: number;
  /** An identifier from the user's input, kept for their reports. */
  readonly externalId?: string;
  /** Where the result object was stored (successful tasks). */
  readonly resultKey?: string;
  readonly httpStatus?: number;
  readonly resultBytes?: number;
  readonly lastError?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly settledAt?: string;
}

/** The meta item of a run. */
export interface RunMetaItem {
  readonly runId: string;
  readonly sk: typeof RUN_META_SK;
  readonly status: RunStatus;
  readonly total: number;
  readonly shardCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  /** Set once the completion event was accepted by the event bus. */
  readonly completionPublishedAt?: string;
}

/** A counter shard item of a run. Missing counters read as zero. */
export interface CounterShardItem {
  readonly runId: string;
  readonly sk: string;
  readonly completed?: number;
  readonly successful?: number;
  readonly failed?: number;
}

/** The counters a run keeps, summed over its shards. */
export interface RunCounters {
  readonly total: number;
  readonly completed: number;
  readonly successful: number;
  readonly failed: number;
}

export const runMetaKey = (runId: string) => ({ runId, sk: RUN_META_SK });

export const counterShardSk = (shard: number) =>
  `${COUNTER_SHARD_SK_PREFIX}${String(shard).padStart(3, '0')}`;

export const counterShardKey = (runId: string, shard: number) => ({
  runId,
  sk: counterShardSk(shard),
});

export const taskKey = (runId: string, taskId: string): TaskKey => ({ runId, taskId });

export const isCounterShardSk = (sk: unknown): boolean =>
  typeof sk === 'string' && sk.startsWith(COUNTER_SHARD_SK_PREFIX);

/**
 * The counter shard a task adds to. FNV-1a over the task id: stable across
 * processes and languages, and spread evenly enough for a handful of shards.
 */
export const counterShardFor = (taskId: string, shardCount: number): number => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < taskId.length; index++) {
    hash ^= taskId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }

  return (hash >>> 0) % shardCount;
};

/**
 * The task id of the input line at `position` (0-based). Positional ids make a
 * re-submission of the same input address the same rows.
 */
export const taskIdForPosition = (position: number): string =>
  `t${String(position).padStart(9, '0')}`;

/** Both tables' key schemas, in the shape CreateTable and the CDK both take. */
export const TABLE_DEFINITIONS = {
  runs: {
    partitionKey: RUNS_TABLE.partitionKey,
    sortKey: RUNS_TABLE.sortKey,
    stream: true,
  },
  tasks: {
    partitionKey: TASKS_TABLE.partitionKey,
    sortKey: TASKS_TABLE.sortKey,
    stream: false,
  },
} as const;

export type TableRole = keyof typeof TABLE_DEFINITIONS;

/** Run ids are used in object keys and CLI arguments, so they are kept plain. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const isValidRunId = (runId: string): boolean => RUN_ID_PATTERN.test(runId);
