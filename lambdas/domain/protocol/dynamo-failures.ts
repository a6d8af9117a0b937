import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * The item DynamoDB returned with a failed condition
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). The document client does
 * not unmarshall it, so this does; `undefined` means there was no item.
 */
export const oldItemOf = (
  error: ConditionalCheckFailedException,
): Record<string, unknown> | undefined => (error.Item ? unmarshall(error.Item) : undefined);

export const isConditionalCheckFailed = (
  error: unknown,
): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: unknown } | undefined)?.name === 'ConditionalCheckFailedException';

export const isTransactionCanceled = (error: unknown): error is TransactionCanceledException =>
  error instanceof TransactionCanceledException ||
  (error as { name?: unknown } | undefined)?.name === 'TransactionCanceledException';

export const cancellationReasonsOf = (error: TransactionCanceledException): CancellationReason[] =>
  error.CancellationReasons ?? [];

/** Cancellation codes that say "try the same transaction again". */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export const isTransientCancellation = (reasons: CancellationReason[]): boolean =>
  reasons.some(
    (reason) => reason.Code !== undefined && TRANSIENT_CANCELLATION_CODES.has(reason.Code),
  );

/**
 * Errors after which a write may or may not have been applied: the request
 * timed out, the connection dropped, or DynamoDB answered 5xx. The SDK has
 * already retried them; the caller must find out or retry idempotently.
 */
const OUTCOME_UNKNOWN_ERRORS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

const OUTCOME_UNKNOWN_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

export const isOutcomeUnknown = (error: unknown): boolean => {
  const { name, code, $metadata } = (error ?? {}) as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (name !== undefined && OUTCOME_UNKNOWN_ERRORS.has(name)) return true;
  if (code !== undefined && OUTCOME_UNKNOWN_NETWORK_CODES.has(code)) return true;

  return ($metadata?.httpStatusCode ?? 0) >= 500;
};
