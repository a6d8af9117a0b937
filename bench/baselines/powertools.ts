/**
 * Baseline 3: Powertools for AWS Lambda's idempotency utility, with its
 * DynamoDB persistence layer, wrapping the processing (fetch, store, write
 * the terminal status), plus a bare ADD on the counters. Concurrent
 * duplicates are turned away while a record is in progress, but the record
 * and the counters are separate writes: a death after the ADD and before the
 * record is marked complete lets the next delivery count the task again.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { resultKeyFor } from '../../lambdas/domain/result-keys';
import { TASK_STATUS, type TaskItem, type TerminalStatus } from '../../lambdas/domain/schema';
import { parseTaskMessage } from '../../lambdas/domain/task-message';
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

/** Thrown inside the idempotent function so Powertools deletes its record and allows a retry. */
class RetryableProcessingError extends Error {
  override readonly name = 'RetryableProcessingError';
}

/** Creates the idempotency table Powertools' DynamoDB layer expects (partition key `id`). */
export const createIdempotencyTable = async (client: DynamoDBClient, tableName: string) => {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
};

const processTask = async (
  deps: WorkerDeps,
  record: SQSRecord,
  context: Context,
): Promise<string> => {
  const key = parseTaskMessage(record.body);
  const { Item } = await sendWithSdkRetries<{ Item?: TaskItem }>(
    deps,
    new GetCommand({ TableName: deps.tables.tasks, Key: key }),
  );
  if (!Item) return 'unknown-task';

  let status: TerminalStatus = TASK_STATUS.successful;
  try {
    const page = await callTarget(deps, Item.url, context);
    await deps.results.put(resultKeyFor(key), page.body, page.contentType);
  } catch (error) {
    if (!isPermanent(error) && receiveCountOf(record) < deps.settings.maxAttempts) {
      throw new RetryableProcessingError(String(error));
    }
    status = TASK_STATUS.failed;
  }

  await sendWithSdkRetries(
    deps,
    new PutCommand({
      TableName: deps.tables.tasks,
      Item: { ...Item, status, ...(status === 'successful' && { resultKey: resultKeyFor(key) }) },
    }),
  );
  await addToCounters(deps, key, Item.counterShard, status);

  return status;
};

/**
 * The Powertools worker for an idempotency table, usable as the pipeline's
 * `createWorker`. Records are keyed by the message body (the task), so a
 * re-enqueued task under a new message id is deduplicated too.
 */
export const createPowertoolsWorker =
  (idempotencyTableName: string): BaselineWorker =>
  (deps) => {
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'body' });
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: idempotencyTableName,
      awsSdkV3Client: deps.documentClient as unknown as DynamoDBClient,
    });
    // Shaped like a Lambda handler, so the record (the first argument) is the
    // idempotency payload; the context gives the fetch its deadline.
    const idempotentProcess = makeIdempotent(
      (record: SQSRecord, context: Context) => processTask(deps, record, context),
      { persistenceStore, config },
    );

    return (event, context: Context) => {
      config.registerLambdaContext(context);

      return processBatch(event, async (record): Promise<RecordOutcome> => {
        await idempotentProcess(record, context);

        return 'acknowledge';
      });
    };
  };
