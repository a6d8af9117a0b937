import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TaskStoreError } from './errors';
import type { TableNames } from './ports';
import { collectRunPartition, runPartitionItems } from './run-items';
import {
  isCounterShardSk,
  RUN_META_SK,
  type CounterShardItem,
  type RunCounters,
  type RunMetaItem,
  type TaskStatus,
} from './schema';

export interface RunProgress {
  /** Undefined when the run does not exist. */
  readonly meta: RunMetaItem | undefined;
  readonly counters: RunCounters;
  readonly shards: number;
}

export interface ProgressDeps {
  readonly documentClient: DynamoDBDocumentClient;
  /** Progress reads only the runs table. */
  readonly tables: Pick<TableNames, 'runs'>;
}

export interface AuditDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
}

/**
 * Reads a run's meta item and all its counter shards with one strongly
 * consistent Query (paged only for very large shard counts) and sums them.
 */
export const readProgress = async (deps: ProgressDeps, runId: string): Promise<RunProgress> => {
  const items = await queryRunPartition(deps, runId);
  const meta = items.find((item) => item.sk === RUN_META_SK) as unknown as RunMetaItem | undefined;
  const shards = items.filter((item) => isCounterShardSk(item.sk)) as unknown as CounterShardItem[];

  return { meta, counters: sumCounters(meta?.total ?? 0, shards), shards: shards.length };
};

const queryRunPartition = async (deps: ProgressDeps, runId: string) => {
  try {
    return await collectRunPartition(deps.documentClient, deps.tables.runs, runId);
  } catch (error) {
    throw new TaskStoreError(`Reading the progress of run ${runId} failed`, { cause: error });
  }
};

export const sumCounters = (total: number, shards: readonly CounterShardItem[]): RunCounters =>
  shards.reduce<RunCounters>(
    (sum, shard) => ({
      total,
      completed: sum.completed + (shard.completed ?? 0),
      successful: sum.successful + (shard.successful ?? 0),
      failed: sum.failed + (shard.failed ?? 0),
    }),
    { total, completed: 0, successful: 0, failed: 0 },
  );

/**
 * The invariants that hold at every instant of a run:
 * `successful + failed = completed ≤ total`, and no counter below zero.
 * Returns one sentence per broken invariant; empty when all hold.
 */
export const counterViolations = (counters: RunCounters): string[] => {
  const { total, completed, successful, failed } = counters;
  const violations: string[] = [];
  if (successful + failed !== completed) {
    violations.push(`successful (${successful}) + failed (${failed}) != completed (${completed})`);
  }
  if (completed > total) violations.push(`completed (${completed}) > total (${total})`);
  if (successful > total) violations.push(`successful (${successful}) > total (${total})`);
  if (failed > total) violations.push(`failed (${failed}) > total (${total})`);
  if (Math.min(completed, successful, failed) < 0) violations.push('a counter is below zero');

  return violations;
};

export type StatusCounts = Record<TaskStatus, number>;

export interface RunAudit {
  readonly counters: RunCounters;
  /** Task rows by status, counted row by row. */
  readonly rows: StatusCounts & { readonly total: number };
  /** Broken invariants and every disagreement between counters and rows. */
  readonly problems: string[];
}

/**
 * Recounts a run's task rows and compares them with its counters: the
 * counters must equal the number of rows in each terminal state, and the
 * number of rows must equal `total`.
 */
export const auditRun = async (deps: AuditDeps, runId: string): Promise<RunAudit> => {
  const { counters } = await readProgress(deps, runId);
  const rows = await countTaskRows(deps, runId);
  const problems = counterViolations(counters);
  if (rows.total !== counters.total)
    problems.push(`task rows (${rows.total}) != total (${counters.total})`);
  if (rows.successful !== counters.successful) {
    problems.push(
      `successful rows (${rows.successful}) != successful counter (${counters.successful})`,
    );
  }
  if (rows.failed !== counters.failed) {
    problems.push(`failed rows (${rows.failed}) != failed counter (${counters.failed})`);
  }

  return { counters, rows, problems };
};

const countTaskRows = async (deps: AuditDeps, runId: string) => {
  const counts: StatusCounts = { pending: 0, processing: 0, successful: 0, failed: 0 };
  let total = 0;
  const rows = runPartitionItems(deps.documentClient, deps.tables.tasks, runId, {
    ProjectionExpression: '#status',
    ExpressionAttributeNames: { '#status': 'status' },
  });
  try {
    for await (const row of rows) {
      const status = row.status as TaskStatus;
      if (status in counts) counts[status] += 1;
      total += 1;
    }
  } catch (error) {
    throw new TaskStoreError(`Counting the task rows of run ${runId} failed`, { cause: error });
  }

  return { ...counts, total };
};
