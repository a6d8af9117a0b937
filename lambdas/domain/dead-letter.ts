import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS } from '../config';
import { METRIC } from '../metrics';
import { MalformedMessageError } from './errors';
import type {
  Clock,
  DomainLogger,
  MessageQueue,
  MetricSink,
  ResultStore,
  TableNames,
} from './ports';
import { CLAIM_OUTCOME, claimTask } from './protocol/claim';
import { SETTLE_OUTCOME, settleTask } from './protocol/settle';
import { deadLetterArchiveKeyFor } from './result-keys';
import { TASK_STATUS, type TaskKey } from './schema';
import { parseTaskMessage } from './task-message';
import { MESSAGE_OUTCOME, type MessageOutcome, type QueueMessage } from './worker';

export interface DeadLetterMessage extends QueueMessage {
  /** How often SQS delivered the message before it was dead-lettered. */
  readonly receiveCount?: number;
  /** Why the worker forwarded it, for poison messages. */
  readonly reason?: string;
}

export interface DeadLetterDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** The dead-letter queue itself: deferrals change visibility there. */
  readonly queue: Pick<MessageQueue, 'changeVisibility'>;
  readonly archive: ResultStore;
  readonly clock: Clock;
  readonly logger: DomainLogger;
  readonly metrics: MetricSink;
  /** Added to the remaining time to form the lease. @default DEFAULTS.leaseMarginMs */
  readonly leaseMarginMs?: number;
  /** Waits between settle attempts. @default a real timer */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** The reason written on a task that the dead-letter handler settles. */
export const DEAD_LETTERED_REASON = 'dead-lettered';

/**
 * Ends a dead-lettered message so its run still completes: a task that is not
 * terminal is settled `failed` (through the same claim and settle as the
 * worker, so it is counted once); a live lease is waited for; a message that
 * names no task, or cannot be read, is archived and then acknowledged.
 */
export const processDeadLetter = async (
  deps: DeadLetterDeps,
  message: DeadLetterMessage,
  remainingTimeMs: () => number,
): Promise<MessageOutcome> => {
  let key: TaskKey;
  try {
    key = parseTaskMessage(message.body);
  } catch (error) {
    if (error instanceof MalformedMessageError) return archive(deps, message, error.message);
    throw error;
  }

  const claim = await claimTask(deps, {
    ...key,
    leaseDurationMs: remainingTimeMs() + (deps.leaseMarginMs ?? DEFAULTS.leaseMarginMs),
  });
  switch (claim.kind) {
    case CLAIM_OUTCOME.unknownTask:
      return archive(
        deps,
        message,
        message.reason ?? `task ${key.taskId} of run ${key.runId} does not exist`,
      );
    case CLAIM_OUTCOME.alreadySettled:
      return MESSAGE_OUTCOME.acknowledge;
    case CLAIM_OUTCOME.leaseHeld: {
      const seconds = Math.ceil((claim.leaseExpiresAt - deps.clock()) / 1_000) + 1;
      await deps.queue.changeVisibility(message.receiptHandle, Math.max(0, seconds));
      return MESSAGE_OUTCOME.retryLater;
    }
    case CLAIM_OUTCOME.claimed:
      break;
  }

  const lastError = claim.task.lastError ? `; last error: ${claim.task.lastError}` : '';
  const outcome = await settleTask(deps, {
    ...key,
    counterShard: claim.task.counterShard,
    leaseOwner: claim.leaseOwner,
    status: TASK_STATUS.failed,
    error: `${DEAD_LETTERED_REASON} after ${message.receiveCount ?? 'unknown'} receives${lastError}`,
  });
  if (outcome.kind === SETTLE_OUTCOME.settled) deps.metrics.count(METRIC.deadLetterSettles);
  deps.logger.warn('Dead-lettered task settled failed', { ...key, outcome: outcome.kind });

  return MESSAGE_OUTCOME.acknowledge;
};

const archive = async (
  deps: DeadLetterDeps,
  message: DeadLetterMessage,
  reason: string,
): Promise<MessageOutcome> => {
  const record = {
    messageId: message.messageId,
    reason,
    receiveCount: message.receiveCount,
    archivedAt: new Date(deps.clock()).toISOString(),
    body: message.body,
  };
  await deps.archive.put(
    deadLetterArchiveKeyFor(message.messageId),
    Buffer.from(JSON.stringify(record, null, 2)),
    'application/json',
  );
  deps.metrics.count(METRIC.archivedMessages);
  deps.logger.error('Unreadable dead-letter message archived', {
    messageId: message.messageId,
    reason,
  });

  return MESSAGE_OUTCOME.acknowledge;
};
