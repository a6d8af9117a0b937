import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS } from '../config';
import { METRIC } from '../metrics';
import { MalformedMessageError } from './errors';
import type {
  Clock,
  DomainLogger,
  FetchedPage,
  FetchPage,
  MessageQueue,
  MetricSink,
  ResultStore,
  TableNames,
} from './ports';
import { CLAIM_OUTCOME, claimTask } from './protocol/claim';
import { RELEASE_OUTCOME, releaseTask } from './protocol/release';
import { SETTLE_OUTCOME, settleTask, type SettleRequest } from './protocol/settle';
import { resultKeyFor } from './result-keys';
import { TASK_STATUS, type TaskItem } from './schema';
import { parseTaskMessage } from './task-message';

/** What the event source should do with a message after the worker handled it. */
export const MESSAGE_OUTCOME = {
  /** Delete it: its task is terminal, or it was forwarded to the dead-letter queue. */
  acknowledge: 'acknowledge',
  /** Report it failed: its visibility was set so it comes back when it should. */
  retryLater: 'retry-later',
} as const;

export type MessageOutcome = (typeof MESSAGE_OUTCOME)[keyof typeof MESSAGE_OUTCOME];

/** The parts of an SQS message the worker reads. */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
}

export interface WorkerSettings {
  /** Claims a task may take before a retryable failure settles it failed. @default 3 */
  readonly maxAttempts: number;
  /** Added to the invocation's remaining time to form the lease. @default 5000 */
  readonly leaseMarginMs: number;
  /** Kept back from the remaining time for storing and settling. @default 3000 */
  readonly settleReserveMs: number;
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = {
  maxAttempts: DEFAULTS.maxAttempts,
  leaseMarginMs: DEFAULTS.leaseMarginMs,
  settleReserveMs: DEFAULTS.settleReserveMs,
};

export interface WorkerDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly queue: MessageQueue;
  readonly results: ResultStore;
  readonly fetchPage: FetchPage;
  readonly clock: Clock;
  readonly logger: DomainLogger;
  readonly metrics: MetricSink;
  readonly settings: WorkerSettings;
  /** Waits between settle attempts. @default a real timer */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** The shortest fetch deadline worth trying. */
const MIN_FETCH_TIMEOUT_MS = 1_000;
/** SQS refuses visibility timeouts above twelve hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Handles one task message: claim, fetch, store, settle — or release the task
 * for another attempt. A message is acknowledged only when its task is
 * terminal (or the message is poison and went to the dead-letter queue), so a
 * task that is not finished always keeps a message that will come back.
 */
export const processTaskMessage = async (
  deps: WorkerDeps,
  message: QueueMessage,
  remainingTimeMs: () => number,
): Promise<MessageOutcome> => {
  deps.metrics.count(METRIC.deliveries);
  let key;
  try {
    key = parseTaskMessage(message.body);
  } catch (error) {
    if (error instanceof MalformedMessageError) return forwardPoison(deps, message, error.message);
    throw error;
  }

  const claim = await claimTask(deps, {
    ...key,
    leaseDurationMs: remainingTimeMs() + deps.settings.leaseMarginMs,
  });
  switch (claim.kind) {
    case CLAIM_OUTCOME.unknownTask:
      return forwardPoison(deps, message, `task ${key.taskId} of run ${key.runId} does not exist`);
    case CLAIM_OUTCOME.alreadySettled:
      deps.metrics.count(METRIC.suppressedDuplicates);
      deps.logger.info('Duplicate delivery of a settled task acknowledged', { ...key });
      return MESSAGE_OUTCOME.acknowledge;
    case CLAIM_OUTCOME.leaseHeld:
      return deferWhileLeased(deps, message, claim.leaseExpiresAt);
    case CLAIM_OUTCOME.claimed:
      return workOnClaimedTask(deps, message, claim.task, claim.leaseOwner, remainingTimeMs);
  }
};

const workOnClaimedTask = async (
  deps: WorkerDeps,
  message: QueueMessage,
  task: TaskItem,
  leaseOwner: string,
  remainingTimeMs: () => number,
): Promise<MessageOutcome> => {
  const timeoutMs = Math.max(
    MIN_FETCH_TIMEOUT_MS,
    remainingTimeMs() - deps.settings.settleReserveMs,
  );
  const settleBase = { ...taskKeyOf(task), counterShard: task.counterShard, leaseOwner };

  let page: FetchedPage;
  try {
    page = await fetchWithMetrics(deps, task.url, timeoutMs);
  } catch (error) {
    return handleFetchFailure(deps, message, task, leaseOwner, error);
  }

  const resultKey = resultKeyFor(task);
  try {
    await deps.results.put(resultKey, page.body, page.contentType);
  } catch (error) {
    deps.logger.warn('Storing a result failed', { ...taskKeyOf(task), error: describe(error) });
    return retryOrFail(
      deps,
      message,
      task,
      leaseOwner,
      `storing the result failed: ${describe(error)}`,
    );
  }

  return settle(deps, {
    ...settleBase,
    status: TASK_STATUS.successful,
    result: { resultKey, httpStatus: page.status, resultBytes: page.body.byteLength },
  });
};

const fetchWithMetrics = async (deps: WorkerDeps, url: string, timeoutMs: number) => {
  const startedAt = deps.clock();
  deps.metrics.count(METRIC.targetCalls);
  try {
    const page = await deps.fetchPage(url, { timeoutMs });
    deps.metrics.count(METRIC.fetchSucceeded);

    return page;
  } catch (error) {
    deps.metrics.count(
      isPermanent(error) ? METRIC.fetchPermanentFailures : METRIC.fetchRetryableFailures,
    );
    throw error;
  } finally {
    deps.metrics.milliseconds(METRIC.fetchLatency, deps.clock() - startedAt);
  }
};

const handleFetchFailure = (
  deps: WorkerDeps,
  message: QueueMessage,
  task: TaskItem,
  leaseOwner: string,
  error: unknown,
): Promise<MessageOutcome> => {
  if (isPermanent(error)) {
    return settle(deps, {
      ...taskKeyOf(task),
      counterShard: task.counterShard,
      leaseOwner,
      status: TASK_STATUS.failed,
      error: describe(error),
    });
  }

  return retryOrFail(deps, message, task, leaseOwner, describe(error), retryAfterOf(error));
};

/** A retryable failure: release the task while attempts remain, else settle it failed. */
const retryOrFail = async (
  deps: WorkerDeps,
  message: QueueMessage,
  task: TaskItem,
  leaseOwner: string,
  reason: string,
  retryAfterSeconds?: number,
): Promise<MessageOutcome> => {
  if (task.attempts >= deps.settings.maxAttempts) {
    return settle(deps, {
      ...taskKeyOf(task),
      counterShard: task.counterShard,
      leaseOwner,
      status: TASK_STATUS.failed,
      error: `gave up after ${task.attempts} attempts: ${reason}`,
    });
  }

  const released = await releaseTask(deps, { ...taskKeyOf(task), leaseOwner, error: reason });
  if (released === RELEASE_OUTCOME.released) deps.metrics.count(METRIC.released);
  const delaySeconds = retryAfterSeconds ?? backoffSeconds(task.attempts);
  await deps.queue.changeVisibility(message.receiptHandle, clampVisibility(delaySeconds));
  deps.logger.info('Task released for another attempt', {
    ...taskKeyOf(task),
    attempt: task.attempts,
    delaySeconds,
    outcome: released,
    reason,
  });

  return MESSAGE_OUTCOME.retryLater;
};

const settle = async (deps: WorkerDeps, request: SettleRequest): Promise<MessageOutcome> => {
  const outcome = await settleTask(deps, request);
  if (outcome.kind === SETTLE_OUTCOME.settled) {
    deps.metrics.count(
      request.status === TASK_STATUS.successful ? METRIC.settledSuccessful : METRIC.settledFailed,
    );
  } else {
    deps.metrics.count(METRIC.suppressedDuplicates);
  }
  deps.logger.info('Task settled', {
    runId: request.runId,
    taskId: request.taskId,
    status: request.status,
    outcome: outcome.kind,
  });

  return MESSAGE_OUTCOME.acknowledge;
};

/** Hides a duplicate until the live holder's lease ends, without calling the target. */
const deferWhileLeased = async (
  deps: WorkerDeps,
  message: QueueMessage,
  leaseExpiresAt: number,
): Promise<MessageOutcome> => {
  const seconds =
    Math.ceil((leaseExpiresAt - deps.clock()) / 1_000) + DEFAULTS.leaseDeferralSlackSeconds;
  await deps.queue.changeVisibility(message.receiptHandle, clampVisibility(seconds));
  deps.metrics.count(METRIC.leaseDeferrals);
  deps.logger.info('Delivery deferred while a live worker holds the task', {
    messageId: message.messageId,
    delaySeconds: seconds,
  });

  return MESSAGE_OUTCOME.retryLater;
};

const forwardPoison = async (
  deps: WorkerDeps,
  message: QueueMessage,
  reason: string,
): Promise<MessageOutcome> => {
  await deps.queue.sendToDeadLetter(message.body, reason);
  deps.metrics.count(METRIC.poisonMessages);
  deps.logger.error('Poison message forwarded to the dead-letter queue', {
    messageId: message.messageId,
    reason,
  });

  return MESSAGE_OUTCOME.acknowledge;
};

/** Exponential back-off with full jitter, between the base and the ceiling. */
export const backoffSeconds = (attempt: number, random: () => number = Math.random): number => {
  const ceiling = Math.min(
    DEFAULTS.retryMaxDelaySeconds,
    DEFAULTS.retryBaseDelaySeconds * 2 ** Math.max(0, attempt - 1),
  );

  return Math.max(DEFAULTS.retryBaseDelaySeconds, Math.round(random() * ceiling));
};

const clampVisibility = (seconds: number) =>
  Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds)));

const taskKeyOf = (task: TaskItem) => ({ runId: task.runId, taskId: task.taskId });

const isPermanent = (error: unknown): boolean =>
  (error as { retryable?: unknown } | undefined)?.retryable === false;

const retryAfterOf = (error: unknown): number | undefined => {
  const seconds = (error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;

  return typeof seconds === 'number' && seconds >= 0 ? seconds : undefined;
};

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
