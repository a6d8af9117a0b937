/**
 * The task sender for AWS: SendMessageBatch, ten messages a request, with the
 * entries SQS reports failed sent again.
 */
import {
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type SendMessageBatchResult,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  backoffDelayMs,
  checkRetryPolicy,
  realSleep,
  type RetryPolicy,
  type Sleep,
} from '../domain/backoff';
import { ConveyorError } from '../domain/errors';
import { silentLogger, type DomainLogger, type TaskSender } from '../domain/ports';
import type { TaskKey } from '../domain/schema';
import { formatTaskMessage } from '../domain/task-message';

/** Entries per SendMessageBatch request (SQS's limit). */
export const SEND_MESSAGE_BATCH_MAX_ENTRIES = 10;

/** Retries of failed entries that are not the sender's fault. */
export const DEFAULT_SEND_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
};

/** SendMessageBatch requests in flight at once unless told otherwise. */
export const DEFAULT_SEND_CONCURRENCY = 4;

/** One task whose message could not be sent, and why. */
export interface FailedTaskSend {
  readonly task: TaskKey;
  /** The SQS error code of the entry, or the name of the request's error. */
  readonly code: string;
  /** True when SQS blamed the request: sending it again cannot succeed. */
  readonly senderFault: boolean;
  readonly message?: string;
}

/** Task messages that could not be enqueued. */
export class TaskSendError extends ConveyorError {
  override readonly name = 'TaskSendError';

  constructor(
    readonly failures: readonly FailedTaskSend[],
    options?: { cause: unknown },
  ) {
    super(describeFailures(failures), options);
  }
}

export interface SqsTaskSenderOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Retries of failed entries that are not sender faults. @default DEFAULT_SEND_RETRY_POLICY */
  readonly retryPolicy?: RetryPolicy;
  /** SendMessageBatch requests in flight at once, at least 1. @default 4 */
  readonly concurrency?: number;
  /** @default silentLogger */
  readonly logger?: DomainLogger;
  /** Waits between retries. @default a real timer */
  readonly sleep?: Sleep;
  /** Source of back-off jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * Sends one message per task, body `{"runId","taskId"}`. Entries SQS fails
 * without blaming the sender are sent again with back-off; a sender fault, a
 * request that throws, or retries running out end in {@link TaskSendError}
 * naming every task not sent. Sending a task twice is harmless: the task
 * protocol suppresses duplicate deliveries.
 */
export class SqsTaskSender implements TaskSender {
  private readonly retryPolicy: RetryPolicy;
  private readonly concurrency: number;
  private readonly logger: DomainLogger;
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(private readonly options: SqsTaskSenderOptions) {
    this.retryPolicy = checkRetryPolicy(
      'retryPolicy',
      options.retryPolicy ?? DEFAULT_SEND_RETRY_POLICY,
    );
    this.concurrency = options.concurrency ?? DEFAULT_SEND_CONCURRENCY;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be an integer of at least 1; got ${this.concurrency}`);
    }
    this.logger = options.logger ?? silentLogger;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async sendTasks(tasks: readonly TaskKey[]): Promise<void> {
    const batches: TaskKey[][] = [];
    for (let start = 0; start < tasks.length; start += SEND_MESSAGE_BATCH_MAX_ENTRIES) {
      batches.push(tasks.slice(start, start + SEND_MESSAGE_BATCH_MAX_ENTRIES));
    }

    const failures: FailedTaskSend[] = [];
    let cause: unknown;
    for (let next = 0; next < batches.length; next += this.concurrency) {
      const wave = batches.slice(next, next + this.concurrency);
      const results = await Promise.allSettled(wave.map((batch) => this.sendBatch(batch)));
      for (const result of results) {
        if (result.status === 'fulfilled') continue;
        if (!(result.reason instanceof TaskSendError)) throw result.reason;
        failures.push(...result.reason.failures);
        cause ??= result.reason.cause;
      }
    }

    if (failures.length > 0) {
      throw new TaskSendError(failures, cause === undefined ? undefined : { cause });
    }
  }

  /** Sends up to ten tasks, then again the entries SQS failed as retryable. */
  private async sendBatch(batch: readonly TaskKey[]): Promise<void> {
    let pending = batch.map((task, index) => ({ id: String(index), task }));

    for (let attempt = 1; ; attempt++) {
      const result = await this.sendEntries(pending);
      const failed = new Map((result.Failed ?? []).map((entry) => [entry.Id, entry]));
      const succeeded = new Set((result.Successful ?? []).map((entry) => entry.Id));
      // An entry SQS reports neither way did not arrive as far as we can know.
      const unsent = pending.filter((entry) => !succeeded.has(entry.id));
      if (unsent.length === 0) return;

      const faults = unsent.filter((entry) => failed.get(entry.id)?.SenderFault === true);
      if (faults.length > 0 || attempt >= this.retryPolicy.maxAttempts) {
        throw new TaskSendError(unsent.map((entry) => failureOf(entry.task, failed.get(entry.id))));
      }

      this.logger.debug('task messages failed; retrying', { failed: unsent.length, attempt });
      await this.sleep(backoffDelayMs(this.retryPolicy, attempt, this.random));
      pending = unsent;
    }
  }

  private async sendEntries(
    entries: readonly { id: string; task: TaskKey }[],
  ): Promise<SendMessageBatchResult> {
    try {
      return await this.options.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: entries.map((entry) => ({
            Id: entry.id,
            MessageBody: formatTaskMessage(entry.task),
          })),
        }),
      );
    } catch (error) {
      const code = error instanceof Error ? error.name : 'UnknownError';
      const failures = entries.map((entry) => ({
        task: entry.task,
        code,
        senderFault: false,
        message: error instanceof Error ? error.message : String(error),
      }));
      throw new TaskSendError(failures, { cause: error });
    }
  }
}

const failureOf = (task: TaskKey, entry: BatchResultErrorEntry | undefined): FailedTaskSend => ({
  task,
  code: entry?.Code ?? 'NotReported',
  senderFault: entry?.SenderFault === true,
  ...(entry?.Message !== undefined && { message: entry.Message }),
});

/** How many failed tasks a {@link TaskSendError} message names. */
const FAILURES_IN_MESSAGE = 20;

const describeFailures = (failures: readonly FailedTaskSend[]): string => {
  const listed = failures
    .slice(0, FAILURES_IN_MESSAGE)
    .map(
      (failure) =>
        `${failure.task.runId}/${failure.task.taskId} (${failure.code}` +
        `${failure.senderFault ? ', sender fault' : ''})`,
    );
  const unlisted = failures.length - listed.length;
  const more = unlisted > 0 ? `, and ${unlisted} more` : '';

  return `Could not enqueue ${failures.length} task messages: ${listed.join(', ')}${more}`;
};
