/**
 * The narrow seams the domain takes its dependencies through, so that tests
 * and the local runtime pass their own.
 */
import type { MetricName } from '../metrics';
import type { TaskKey } from './schema';

/** Current time in epoch milliseconds. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** The subset of a structured logger the domain uses (Powertools' Logger fits). */
export interface DomainLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLogger: DomainLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Table names the domain addresses. */
export interface TableNames {
  readonly runs: string;
  readonly tasks: string;
}

/** The queue operations a worker needs on the message it is handling. */
export interface MessageQueue {
  /** Hides a received message for `seconds` more; 0 makes it visible at once. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /**
   * Moves a message that can never succeed (poison) straight to the
   * dead-letter queue, with the reason, so it does not spin through retries.
   */
  sendToDeadLetter(body: string, reason: string): Promise<void>;
}

/** Enqueues task messages; used by submission. */
export interface TaskSender {
  /**
   * Sends one message per task (body: `{"runId","taskId"}` JSON). Implementations
   * retry partial batch failures and throw if any message could not be sent.
   */
  sendTasks(tasks: readonly TaskKey[]): Promise<void>;
}

/** Stores a task's result object under a key derived from the task alone. */
export interface ResultStore {
  put(key: string, body: Uint8Array, contentType: string | undefined): Promise<void>;
}

/** What the finalizer publishes when a run completes. */
export interface RunCompletedDetail {
  readonly runId: string;
  readonly total: number;
  readonly completed: number;
  readonly successful: number;
  readonly failed: number;
  readonly completedAt: string;
}

export interface RunEventPublisher {
  publishRunCompleted(detail: RunCompletedDetail): Promise<void>;
}

/** A fetched page, as the worker stores it. */
export interface FetchedPage {
  readonly status: number;
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly finalUrl: string;
}

/**
 * Fetches a task's URL within `timeoutMs`. Failures are thrown; an error with
 * `retryable: false` is permanent, anything else is worth another attempt.
 */
export type FetchPage = (
  url: string,
  options: { readonly timeoutMs: number },
) => Promise<FetchedPage>;

/** Counts events for dashboards, alarms and the local summary. */
export interface MetricSink {
  count(name: MetricName, value?: number): void;
  /** Records a duration in milliseconds. */
  milliseconds(name: MetricName, value: number): void;
}

export const discardMetrics: MetricSink = {
  count: () => undefined,
  milliseconds: () => undefined,
};
