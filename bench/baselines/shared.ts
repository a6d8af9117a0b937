/**
 * Pieces the baseline protocols share. The baselines exist only to be
 * compared with conveyor (in the simulation and the benchmark); they are never
 * shipped.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { WorkerDeps } from '../../lambdas/domain/worker';
import { counterShardKey, type TaskKey, type TerminalStatus } from '../../lambdas/domain/schema';
import { METRIC } from '../../lambdas/metrics';

/** A worker function with the shape the pipeline's `createWorker` option takes. */
export type BaselineWorker = (
  deps: WorkerDeps,
) => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** What a baseline did with one message. */
export type RecordOutcome = 'acknowledge' | 'retry';

/** Errors the AWS SDK's standard retry strategy sends again on its own. */
const SDK_RETRIED_ERRORS = new Set([
  'TimeoutError',
  'ThrottlingException',
  'TransactionConflictException',
  'ProvisionedThroughputExceededException',
]);

const SDK_MAX_ATTEMPTS = 3;

/**
 * Sends a command the way the SDK does with its default retry strategy:
 * transient errors (including a timeout after the request was sent) are sent
 * again, up to three attempts.
 */
export const sendWithSdkRetries = async <T>(
  deps: Pick<WorkerDeps, 'documentClient'>,
  command: { readonly input: object },
): Promise<T> => {
  const send = deps.documentClient.send.bind(deps.documentClient) as (
    command: unknown,
  ) => Promise<unknown>;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await send(command)) as T;
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (attempt >= SDK_MAX_ATTEMPTS || !SDK_RETRIED_ERRORS.has(name)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
};

/** The bare, commutative counter increment every baseline ends with. */
export const addToCounters = (
  deps: WorkerDeps,
  key: TaskKey,
  counterShard: number,
  status: TerminalStatus,
) =>
  sendWithSdkRetries(
    deps,
    new UpdateCommand({
      TableName: deps.tables.runs,
      Key: counterShardKey(key.runId, counterShard),
      UpdateExpression: 'ADD completed :one, #outcome :one',
      ExpressionAttributeNames: { '#outcome': status },
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );

/** The shortest fetch deadline a baseline tries, as conveyor's worker. */
const MIN_FETCH_TIMEOUT_MS = 1_000;

/**
 * Calls the target, counting the call and giving it the same deadline as
 * conveyor's worker: the invocation's remaining time less the settle reserve.
 */
export const callTarget = (deps: WorkerDeps, url: string, context: Context) => {
  deps.metrics.count(METRIC.targetCalls);
  const timeoutMs = Math.max(
    MIN_FETCH_TIMEOUT_MS,
    context.getRemainingTimeInMillis() - deps.settings.settleReserveMs,
  );

  return deps.fetchPage(url, { timeoutMs });
};

export const isPermanent = (error: unknown): boolean =>
  (error as { retryable?: unknown } | undefined)?.retryable === false;

export const receiveCountOf = (record: SQSRecord): number =>
  Number(record.attributes.ApproximateReceiveCount ?? 1);

/**
 * Handles a batch record by record, in parallel; records that threw or asked
 * to be retried are reported as batch item failures.
 */
export const processBatch = async (
  event: SQSEvent,
  handleRecord: (record: SQSRecord) => Promise<RecordOutcome>,
): Promise<SQSBatchResponse> => {
  const outcomes = await Promise.allSettled(event.Records.map(handleRecord));
  const failed = event.Records.filter((_, index) => {
    const outcome = outcomes[index];

    return outcome?.status === 'rejected' || outcome?.value === 'retry';
  });

  return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
};
