/**
 * An emulation of Lambda's SQS event source mapping: it polls a
 * {@link LocalQueue}, invokes a handler with batches of records, and deletes
 * what the handler reports done (ReportBatchItemFailures).
 *
 * Outcomes, as on AWS:
 * - the handler returns: every message not listed in `batchItemFailures` is
 *   deleted; the listed ones come back when their visibility expires (or when
 *   the handler changed it);
 * - the handler throws, outlives `invocationTimeoutMs`, or returns an
 *   `itemIdentifier` that is not a message id of the batch: the whole batch
 *   fails and nothing is deleted.
 * A timed-out handler is not cancelled: its promise runs on while the
 * messages are redelivered, the overlap a slow worker causes in production.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { silentLogger, systemClock, type Clock, type DomainLogger } from '../lambdas/domain/ports';
import { DrainTimeoutError, InvalidSettingError } from './errors';
import { invokeWithTimeout, type AsyncHandler } from './invoke';
import { createLambdaContext } from './lambda-context';
import { delay, settlesWithin } from './timing';
import { MAX_MESSAGES_PER_RECEIVE, MAX_RECEIVE_WAIT_MS, type LocalQueue } from './queue';

export const DEFAULT_BATCH_SIZE = 10;
export const DEFAULT_MAXIMUM_CONCURRENCY = 5;
export const DEFAULT_INVOCATION_TIMEOUT_MS = 30_000;
export const DEFAULT_POLL_WAIT_MS = 1_000;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const MAXIMUM_CONCURRENCY_LIMIT = 1_000;
const IDLE_CHECK_INTERVAL_MS = 10;

/** A handler as conveyor's SQS-triggered functions export it. */
export type SqsHandler = AsyncHandler<SQSEvent, SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  readonly queue: LocalQueue;
  readonly handler: SqsHandler;
  /** Name in the context and logs. @default 'local-' + queue name */
  readonly functionName?: string;
  /** Records per invocation, 1–10. @default 10 */
  readonly batchSize?: number;
  /**
   * Invocations in flight at once, 1–1000 (AWS accepts 2–1000; 1 is allowed
   * here for tests). @default 5
   */
  readonly maximumConcurrency?: number;
  /** The function timeout. @default 30000 */
  readonly invocationTimeoutMs?: number;
  /** How long one receive long-polls, 1–20000 ms. @default 1000 */
  readonly pollWaitMs?: number;
  /**
   * Honour `batchItemFailures` in the handler's response. When false, a
   * returned batch is deleted whole, as without ReportBatchItemFailures.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /** Time source for the context's remaining time. @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: DomainLogger;
}

/** Why a batch failed as a whole. */
export const BATCH_FAILURE = {
  threw: 'threw',
  timedOut: 'timed-out',
  invalidResponse: 'invalid-response',
} as const;

export type BatchFailureReason = (typeof BATCH_FAILURE)[keyof typeof BATCH_FAILURE];

/** What one invocation did to its batch. */
export interface BatchOutcome {
  readonly records: number;
  /** Messages deleted; a stale receipt handle deletes nothing (see LocalQueue). */
  readonly deleted: number;
  /** Set when the whole batch failed. */
  readonly failure?: BatchFailureReason;
}

export interface SqsEventSourceStats {
  readonly invocations: number;
  readonly timeouts: number;
  readonly errors: number;
  readonly invalidResponses: number;
  /** Records the handler listed in `batchItemFailures`. */
  readonly itemFailures: number;
  readonly deleted: number;
  /** Timed-out invocations whose handler has since finished. */
  readonly lateCompletions: number;
  /** Most invocations seen in flight at once. */
  readonly peakConcurrency: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const requireInteger = (setting: string, value: number, min: number, max: number) => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSettingError(setting, `an integer from ${min} to ${max}`, value);
  }
};

/**
 * The message ids the handler reported failed, or a description of why the
 * response is one Lambda rejects as a whole.
 */
const failedMessageIds = (
  response: unknown,
  records: readonly SQSRecord[],
): Set<string> | string => {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return `expected an object, got ${typeof response}`;
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'batchItemFailures is not an array';

  const batchIds = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof identifier !== 'string' || !batchIds.has(identifier)) {
      return `itemIdentifier ${JSON.stringify(identifier)} is not a message id of the batch`;
    }
    failed.add(identifier);
  }

  return failed;
};

/** Polls one local queue and drives one handler with its messages. */
export class SqsEventSource {
  readonly functionName: string;

  private readonly queue: LocalQueue;
  private readonly handler: SqsHandler;
  private readonly batchSize: number;
  private readonly maximumConcurrency: number;
  private readonly invocationTimeoutMs: number;
  private readonly pollWaitMs: number;
  private readonly reportBatchItemFailures: boolean;
  private readonly clock: Clock;
  private readonly logger: DomainLogger;
  private readonly inFlight = new Set<Promise<BatchOutcome>>();
  private readonly lateInvocations = new Set<Promise<void>>();
  private readonly slotWaiters = new Set<() => void>();
  private readonly counters: Mutable<SqsEventSourceStats> = {
    invocations: 0,
    timeouts: 0,
    errors: 0,
    invalidResponses: 0,
    itemFailures: 0,
    deleted: 0,
    lateCompletions: 0,
    peakConcurrency: 0,
  };
  private polling: Promise<void> | undefined;
  private abortPolling = new AbortController();

  constructor(options: SqsEventSourceOptions) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    requireInteger('batchSize', this.batchSize, 1, MAX_MESSAGES_PER_RECEIVE);
    this.maximumConcurrency = options.maximumConcurrency ?? DEFAULT_MAXIMUM_CONCURRENCY;
    requireInteger('maximumConcurrency', this.maximumConcurrency, 1, MAXIMUM_CONCURRENCY_LIMIT);
    this.invocationTimeoutMs = options.invocationTimeoutMs ?? DEFAULT_INVOCATION_TIMEOUT_MS;
    requireInteger('invocationTimeoutMs', this.invocationTimeoutMs, 1, 900_000);
    this.pollWaitMs = options.pollWaitMs ?? DEFAULT_POLL_WAIT_MS;
    requireInteger('pollWaitMs', this.pollWaitMs, 1, MAX_RECEIVE_WAIT_MS);

    this.queue = options.queue;
    this.handler = options.handler;
    this.functionName = options.functionName ?? `local-${options.queue.name}`;
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Starts polling in the background. Calling it while running does nothing. */
  start(): void {
    if (this.polling) return;

    this.abortPolling = new AbortController();
    this.polling = this.pollUntilStopped(this.abortPolling.signal);
  }

  /**
   * Stops polling and waits up to `timeoutMs` for invocations in flight,
   * timed-out ones included, to finish. Resolves with how many had not.
   */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<{ unfinished: number }> {
    this.abortPolling.abort();
    await this.polling;
    this.polling = undefined;

    const unfinished = [...this.inFlight, ...this.lateInvocations];
    const finished = await settlesWithin(Promise.allSettled(unfinished), timeoutMs);

    return { unfinished: finished ? 0 : this.inFlight.size + this.lateInvocations.size };
  }

  /**
   * Receives one batch without waiting and invokes the handler with it,
   * resolving once the batch is settled; undefined when nothing was visible.
   * For tests that step the mapping by hand instead of calling start().
   */
  async processNextBatch(): Promise<BatchOutcome | undefined> {
    const records = await this.queue.receiveMessages(this.batchSize);
    if (records.length === 0) return undefined;

    return this.track(this.invokeAndSettle(records));
  }

  /**
   * Resolves once the queue holds no message and no invocation (late ones
   * included) is running; throws {@link DrainTimeoutError} after `timeoutMs`.
   */
  async waitUntilIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isIdle()) {
      if (Date.now() >= deadline) throw new DrainTimeoutError(timeoutMs, this.describeBusy());
      await delay(IDLE_CHECK_INTERVAL_MS);
    }
  }

  stats(): SqsEventSourceStats {
    return { ...this.counters };
  }

  /** Invocations currently holding a concurrency slot. */
  get concurrency(): number {
    return this.inFlight.size;
  }

  private isIdle(): boolean {
    return this.queue.isEmpty() && this.inFlight.size === 0 && this.lateInvocations.size === 0;
  }

  private describeBusy(): string {
    const depth = this.queue.depth();

    return (
      `queue ${this.queue.name} has ${depth.visible} visible, ${depth.inFlight} in flight and ` +
      `${depth.delayed} delayed messages; ${this.inFlight.size} invocations running, ` +
      `${this.lateInvocations.size} timed out but still running`
    );
  }

  private async pollUntilStopped(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.freeSlot(signal);
      if (signal.aborted) break;

      const records = await this.queue.receiveMessages(this.batchSize, this.pollWaitMs, signal);
      if (records.length > 0) void this.track(this.invokeAndSettle(records));
    }
  }

  private freeSlot(signal: AbortSignal): Promise<void> {
    if (this.inFlight.size < this.maximumConcurrency) return Promise.resolve();

    return new Promise((resolve) => {
      const wake = () => {
        this.slotWaiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.slotWaiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private track(invocation: Promise<BatchOutcome>): Promise<BatchOutcome> {
    this.inFlight.add(invocation);
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.inFlight.size);
    const release = () => {
      this.inFlight.delete(invocation);
      for (const wake of [...this.slotWaiters]) wake();
    };
    invocation.then(release, release);

    return invocation;
  }

  private async invokeAndSettle(records: SQSRecord[]): Promise<BatchOutcome> {
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.invocationTimeoutMs,
      clock: this.clock,
    });
    this.counters.invocations += 1;

    const outcome = await invokeWithTimeout(
      this.handler,
      { Records: records },
      context,
      this.invocationTimeoutMs,
    );
    if (outcome.kind === 'timed-out') return this.failTimedOut(records, outcome.late);
    if (outcome.kind === 'threw') return this.failThrown(records, outcome.error);

    return this.settleReturned(records, outcome.value);
  }

  private failTimedOut(records: SQSRecord[], late: Promise<void>): BatchOutcome {
    this.counters.timeouts += 1;
    this.lateInvocations.add(late);
    void late.then(() => {
      this.lateInvocations.delete(late);
      this.counters.lateCompletions += 1;
    });
    this.logger.warn('Invocation timed out; batch failed', this.logFields(records));

    return { records: records.length, deleted: 0, failure: BATCH_FAILURE.timedOut };
  }

  private failThrown(records: SQSRecord[], error: unknown): BatchOutcome {
    this.counters.errors += 1;
    this.logger.warn('Invocation threw; batch failed', { ...this.logFields(records), error });

    return { records: records.length, deleted: 0, failure: BATCH_FAILURE.threw };
  }

  private settleReturned(records: SQSRecord[], response: unknown): BatchOutcome {
    const failed = this.reportBatchItemFailures ? failedMessageIds(response, records) : new Set();
    if (typeof failed === 'string') {
      this.counters.invalidResponses += 1;
      this.logger.warn('Invalid batch response; batch failed', {
        ...this.logFields(records),
        detail: failed,
      });

      return { records: records.length, deleted: 0, failure: BATCH_FAILURE.invalidResponse };
    }

    const done = records.filter((record) => !failed.has(record.messageId));
    const deleted = done.filter(
      (record) => this.queue.deleteMessage(record.receiptHandle) === 'applied',
    ).length;
    this.counters.itemFailures += records.length - done.length;
    this.counters.deleted += deleted;

    return { records: records.length, deleted };
  }

  private logFields(records: readonly SQSRecord[]) {
    return {
      functionName: this.functionName,
      queue: this.queue.name,
      messageIds: records.map((record) => record.messageId),
    };
  }
}
