/**
 * Baseline 2, the known fix: the write toward `processing` and the terminal
 * write are conditional, so exactly one duplicate wins the terminal write and
 * only the winner adds to the counters, with a second, separate request.
 * A death between the two writes loses the count; concurrent duplicates both
 * call the target.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { isConditionalCheckFailed } from '../../lambdas/domain/protocol/dynamo-failures';
import { resultKeyFor } from '../../lambdas/domain/result-keys';
import {
  TASK_STATUS,
  type TaskItem,
  type TaskKey,
  type TerminalStatus,
} from '../../lambdas/domain/schema';
import { parseTaskMessage } from '../../lambdas/domain/task-message';
import type { WorkerDeps } from '../../lambdas/domain/worker';
import {
  addToCounters,
  callTarget,
  isPermanent,
  processBatch,
  sendWithSdkRetries,
  type BaselineWorker,
  type RecordOutcome,
} from './shared';

/** Moves a non-terminal task to `processing`; undefined when it is terminal or missing. */
const startProcessing = async (deps: WorkerDeps, key: TaskKey) => {
  try {
    const { Attributes } = await sendWithSdkRetries<{ Attributes?: TaskItem }>(
      deps,
      new UpdateCommand({
        TableName: deps.tables.tasks,
        Key: key,
        UpdateExpression: 'SET #status = :processing ADD attempts :one',
        ConditionExpression: '#status IN (:pending, :processing)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': TASK_STATUS.pending,
          ':processing': TASK_STATUS.processing,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );

    return Attributes;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
};

/** `processing → status`, conditional; true when this caller won. */
const writeStatus = async (
  deps: WorkerDeps,
  key: TaskKey,
  status: TerminalStatus | typeof TASK_STATUS.pending,
  resultKey?: string,
) => {
  try {
    await sendWithSdkRetries(
      deps,
      new UpdateCommand({
        TableName: deps.tables.tasks,
        Key: key,
        UpdateExpression: `SET #status = :terminal${resultKey ? ', resultKey = :resultKey' : ''}`,
        ConditionExpression: '#status = :processing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':terminal': status,
          ':processing': TASK_STATUS.processing,
          ...(resultKey && { ':resultKey': resultKey }),
        },
      }),
    );

    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
};

const handleRecord = async (
  deps: WorkerDeps,
  record: SQSRecord,
  context: Context,
): Promise<RecordOutcome> => {
  const key = parseTaskMessage(record.body);
  const task = await startProcessing(deps, key);
  if (!task) return 'acknowledge';

  let status: TerminalStatus = TASK_STATUS.successful;
  let resultKey: string | undefined = resultKeyFor(key);
  try {
    const page = await callTarget(deps, task.url, context);
    await deps.results.put(resultKey, page.body, page.contentType);
  } catch (error) {
    if (!isPermanent(error) && task.attempts < deps.settings.maxAttempts) {
      await writeStatus(deps, key, TASK_STATUS.pending);
      return 'retry';
    }
    status = TASK_STATUS.failed;
    resultKey = undefined;
  }

  if (await writeStatus(deps, key, status, resultKey)) {
    await addToCounters(deps, key, task.counterShard, status);
  }

  return 'acknowledge';
};

/** The two-step worker, usable as the pipeline's `createWorker`. */
export const createTwoStepWorker: BaselineWorker = (deps) => (event, context) =>
  processBatch(event, (record) => handleRecord(deps, record, context));
