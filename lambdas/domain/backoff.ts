/**
 * Exponential back-off with full jitter, for the retries conveyor makes itself
 * (unprocessed batch items, partially failed message batches). The AWS SDK's
 * own retries of whole requests come on top of these.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

/** How often, and how patiently, a partial failure is retried. */
export interface RetryPolicy {
  /** Attempts in total, the first one included; at least 1. */
  readonly maxAttempts: number;
  /** Upper bound of the first wait, in milliseconds. */
  readonly baseDelayMs: number;
  /** Upper bound of any wait, in milliseconds. */
  readonly maxDelayMs: number;
}

/** Waits `ms` milliseconds; injected so tests do not wait. */
export type Sleep = (ms: number) => Promise<unknown>;

export const realSleep: Sleep = (ms) => sleepTimer(ms);

/**
 * The wait before retry number `retry` (1 for the first retry): a uniformly
 * random delay up to `min(maxDelayMs, baseDelayMs * 2^(retry - 1))`. Full
 * jitter spreads retries of many clients that failed together.
 */
export const backoffDelayMs = (
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number => {
  const ceilingMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));

  return Math.floor(random() * ceilingMs);
};

/** Throws a `RangeError` naming `setting` unless the policy is usable. */
export const checkRetryPolicy = (setting: string, policy: RetryPolicy): RetryPolicy => {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(
      `${setting}.maxAttempts must be an integer of at least 1; got ${policy.maxAttempts}`,
    );
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs)) {
    throw new RangeError(
      `${setting} needs 0 <= baseDelayMs <= maxDelayMs; got baseDelayMs ${policy.baseDelayMs}, maxDelayMs ${policy.maxDelayMs}`,
    );
  }

  return policy;
};
