/**
 * Baseline 1, the original protocol: read the status, do the work, write the
 * terminal status, then a bare ADD on the counters. Nothing holds between the
 * read and the writes, so concurrent duplicates are both counted.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { parseTaskMessage } from '../../lambdas/domain/task-message';
import { resultKeyFor } from '../../lambdas/domain/result-keys';
import { isTerminalStatus, type TaskItem, type TerminalStatus } from '../../lambdas/domain/schema';
import type { WorkerDeps } from '../../lambdas/domain/worker';
import {
  addToCounters,
  callTarget,
  isPermanent,
  processBatch,
  receiveCountOf,
  sendWithSdkRetries,
  type BaselineWorker,
  type RecordOutcome,
} from './shared';

const handleRecord = async (
  deps: WorkerDeps,
  record: SQSRecord,
  context: Context,
): Promise<RecordOutcome> => {
  const key = parseTaskMessage(record.body);
  const { Item } = await sendWithSdkRetries<{ Item?: TaskItem }>(
    deps,
    new GetCommand({ TableName: deps.tables.tasks, Key: key }),
  );
  if (!Item || isTerminalStatus(Item.status)) return 'acknowledge';

  let status: TerminalStatus = 'successful';
  try {
    const page = await callTarget(deps, Item.url, context);
    await deps.results.put(resultKeyFor(key), page.body, page.contentType);
  } catch (error) {
    if (!isPermanent(error) && receiveCountOf(record) < deps.settings.maxAttempts) return 'retry';
    status = 'failed';
  }

  await sendWithSdkRetries(
    deps,
    new PutCommand({
      TableName: deps.tables.tasks,
      Item: { ...Item, status, ...(status === 'successful' && { resultKey: resultKeyFor(key) }) },
    }),
  );
  await addToCounters(deps, key, Item.counterShard, status);

  return 'acknowledge';
};

/** The naive worker, usable as the pipeline's `createWorker`. */
export const createNaiveWorker: BaselineWorker = (deps) => (event, context) =>
  processBatch(event, (record) => handleRecord(deps, record, context));
