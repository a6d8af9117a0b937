import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { METRIC } from '../metrics';
import { TaskStoreError } from './errors';
import type { Clock, DomainLogger, MetricSink, RunEventPublisher, TableNames } from './ports';
import { counterViolations, readProgress } from './progress';
import { isConditionalCheckFailed } from './protocol/dynamo-failures';
import { RUN_STATUS, runMetaKey, type RunCounters, type RunMetaItem } from './schema';

export interface FinalizerDeps {
  readonly documentClient: DynamoDBDocumentClient;
  /** The finalizer reads and writes only the runs table. */
  readonly tables: Pick<TableNames, 'runs'>;
  readonly events: RunEventPublisher;
  readonly clock: Clock;
  readonly logger: DomainLogger;
  readonly metrics: MetricSink;
}

export const FINALIZE_OUTCOME = {
  missing: 'missing',
  inProgress: 'in-progress',
  violated: 'violated',
  completed: 'completed',
  alreadyCompleted: 'already-completed',
} as const;

export type FinalizeOutcome = (typeof FINALIZE_OUTCOME)[keyof typeof FINALIZE_OUTCOME];

/**
 * Looks at a run whose counters or meta item changed: checks the counter
 * invariants (a violation is logged and counted, which the alarm watches),
 * and when every task is counted moves the run `running → completed` with a
 * conditional write, so exactly one finalizer completes it. The completion
 * event is published until its publication is recorded: a finalizer that dies
 * in between leaves the run completed but unpublished, and the stream record
 * of that change brings the next invocation here to publish.
 */
export const finalizeRun = async (deps: FinalizerDeps, runId: string): Promise<FinalizeOutcome> => {
  const { meta, counters } = await readProgress(deps, runId);
  if (!meta) return FINALIZE_OUTCOME.missing;

  const violations = counterViolations(counters);
  if (violations.length > 0) {
    deps.metrics.count(METRIC.invariantViolations);
    deps.logger.error('Run counters break an invariant', { runId, counters, violations });
    return FINALIZE_OUTCOME.violated;
  }

  if (meta.status === RUN_STATUS.completed) {
    if (!meta.completionPublishedAt) await publishCompletion(deps, meta, counters);
    return FINALIZE_OUTCOME.alreadyCompleted;
  }
  if (meta.status !== RUN_STATUS.running || counters.completed < counters.total) {
    return FINALIZE_OUTCOME.inProgress;
  }

  const completedAt = new Date(deps.clock()).toISOString();
  if (!(await markCompleted(deps, runId, counters, completedAt)))
    return FINALIZE_OUTCOME.alreadyCompleted;
  deps.metrics.count(METRIC.runsCompleted);
  deps.logger.info('Run completed', { runId, ...counters });
  await publishCompletion(deps, { ...meta, completedAt }, counters);

  return FINALIZE_OUTCOME.completed;
};

/** `true` when this call made the transition; `false` when another finalizer already did. */
const markCompleted = async (
  deps: FinalizerDeps,
  runId: string,
  counters: RunCounters,
  completedAt: string,
): Promise<boolean> => {
  try {
    await deps.documentClient.send(
      new UpdateCommand({
        TableName: deps.tables.runs,
        Key: runMetaKey(runId),
        UpdateExpression:
          'SET #status = :completed, completedAt = :at, updatedAt = :at, finalCounters = :counters',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':completed': RUN_STATUS.completed,
          ':running': RUN_STATUS.running,
          ':at': completedAt,
          ':counters': counters,
        },
      }),
    );

    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw new TaskStoreError(`Marking run ${runId} completed failed`, { cause: error });
  }
};

const publishCompletion = async (deps: FinalizerDeps, meta: RunMetaItem, counters: RunCounters) => {
  const completedAt = meta.completedAt ?? new Date(deps.clock()).toISOString();
  await deps.events.publishRunCompleted({ runId: meta.runId, ...counters, completedAt });

  try {
    await deps.documentClient.send(
      new UpdateCommand({
        TableName: deps.tables.runs,
        Key: runMetaKey(meta.runId),
        UpdateExpression: 'SET completionPublishedAt = :at',
        ConditionExpression: 'attribute_not_exists(completionPublishedAt)',
        ExpressionAttributeValues: { ':at': new Date(deps.clock()).toISOString() },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) {
      throw new TaskStoreError(`Recording the completion event of run ${meta.runId} failed`, {
        cause: error,
      });
    }
  }
};
