/**
 * Storing a run's task rows. A fresh run batch-writes them; a resumed run
 * reads which exist and puts only the missing ones, each on condition that it
 * still does not exist.
 */
import { randomUUID } from 'node:crypto';
import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  TransactWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { backoffDelayMs, type RetryPolicy, type Sleep } from '../backoff';
import type { DomainLogger, TableNames } from '../ports';
import {
  cancellationReasonsOf,
  isTransactionCanceled,
  isTransientCancellation,
} from '../protocol/dynamo-failures';
import { TASK_STATUS, taskKey, type TaskItem, type TaskKey, type TaskStatus } from '../schema';
import { BatchRetriesExhaustedError, RunMismatchError } from './errors';

/** Items per BatchWriteItem request (DynamoDB's limit). */
export const BATCH_WRITE_MAX_ITEMS = 25;

/** What storing rows needs. */
export interface RowStoreContext {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly logger: DomainLogger;
  readonly retryPolicy: RetryPolicy;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly runId: string;
}

/** A task row about to be stored, with the input line it came from. */
export interface PlannedRow {
  readonly row: TaskItem;
  readonly line: number;
}

/** What storing one chunk found and did. */
export interface StoredChunk {
  /** Rows this submission wrote. */
  readonly written: readonly TaskKey[];
  /** Rows that were there already. */
  readonly existing: number;
  /** Rows that were there already and are still pending: their messages go again. */
  readonly pendingExisting: readonly TaskKey[];
}

/**
 * A fresh run has no rows yet: batch-write them all, unconditionally (the
 * transactional puts of a resumed run cost twice the write units). Only the call that created the run's meta
 * item comes here; a second submission of the same run started while this one
 * still runs takes the conditional path, but this one's writes can still land
 * after that one's. Submissions of one run id are meant to run one at a time.
 */
export const storeNewRows = async (
  context: RowStoreContext,
  chunk: readonly PlannedRow[],
): Promise<StoredChunk> => {
  const rows = chunk.map((planned) => planned.row);
  await allOrFirstFailure(
    partition(rows, BATCH_WRITE_MAX_ITEMS).map((batch) => batchWriteRows(context, batch)),
  );

  return { written: rows.map(keyOf), existing: 0, pendingExisting: [] };
};

type TaskWriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

const batchWriteRows = (context: RowStoreContext, rows: readonly TaskItem[]): Promise<void> =>
  untilProcessed<TaskWriteRequest>(
    context,
    'BatchWriteItem',
    rows.map((row) => ({ PutRequest: { Item: { ...row } } })),
    async (requests) => {
      const response = await context.documentClient.send(
        new BatchWriteCommand({ RequestItems: { [context.tables.tasks]: requests } }),
      );

      return response.UnprocessedItems?.[context.tables.tasks] ?? [];
    },
  );

/**
 * A resumed run: read which rows exist, check they hold the same URLs, and
 * write only the missing ones, each on condition that it still does not
 * exist, so that no row is overwritten even by a concurrent submission.
 */
export const storeMissingRows = async (
  context: RowStoreContext,
  chunk: readonly PlannedRow[],
): Promise<StoredChunk> => {
  const found = await readStoredRows(context, chunk);
  checkSameUrls(context, chunk, found);

  const missing = chunk.filter((planned) => !found.has(planned.row.taskId));
  const pendingFound = chunk.filter(
    (planned) => found.get(planned.row.taskId)?.status === TASK_STATUS.pending,
  );
  const put = await putRowsIfAbsent(
    context,
    missing.map((planned) => planned.row),
  );

  return {
    written: put.written.map(keyOf),
    existing: found.size + put.present.length,
    pendingExisting: [
      ...pendingFound.map((planned) => keyOf(planned.row)),
      ...put.present
        .filter((stored) => stored.status === TASK_STATUS.pending)
        .map((stored) => taskKey(context.runId, stored.taskId)),
    ],
  };
};

/** The part of a stored row a re-submission compares and decides on. */
interface StoredRow {
  readonly taskId: string;
  readonly url: string;
  readonly status: TaskStatus;
}

const readStoredRows = async (
  context: RowStoreContext,
  chunk: readonly PlannedRow[],
): Promise<Map<string, StoredRow>> => {
  const found = new Map<string, StoredRow>();
  const keys: Record<string, unknown>[] = chunk.map((planned) => ({ ...keyOf(planned.row) }));

  await untilProcessed(context, 'BatchGetItem', keys, async (pending) => {
    const response = await context.documentClient.send(
      new BatchGetCommand({
        RequestItems: {
          [context.tables.tasks]: {
            Keys: pending,
            ConsistentRead: true,
            ProjectionExpression: '#taskId, #url, #status',
            ExpressionAttributeNames: { '#taskId': 'taskId', '#url': 'url', '#status': 'status' },
          },
        },
      }),
    );
    for (const item of response.Responses?.[context.tables.tasks] ?? []) {
      const stored = item as StoredRow;
      found.set(stored.taskId, stored);
    }

    return response.UnprocessedKeys?.[context.tables.tasks]?.Keys ?? [];
  });

  return found;
};

const checkSameUrls = (
  context: RowStoreContext,
  chunk: readonly PlannedRow[],
  found: ReadonlyMap<string, StoredRow>,
): void => {
  const differences = chunk.flatMap(({ row, line }) => {
    const stored = found.get(row.taskId);
    if (stored === undefined || stored.url === row.url) return [];

    return [
      {
        field: `URL of task ${row.taskId} (input line ${line})`,
        existing: stored.url,
        requested: row.url,
      },
    ];
  });

  if (differences.length > 0) throw new RunMismatchError(context.runId, differences);
};

/**
 * Puts rows in one transaction, each conditioned on not existing. Rows that
 * turn out to exist (a concurrent submission wrote them) are taken out and
 * reported with their stored status; the rest are put again.
 */
const putRowsIfAbsent = async (
  context: RowStoreContext,
  rows: readonly TaskItem[],
): Promise<{ written: readonly TaskItem[]; present: readonly StoredRow[] }> => {
  const present: StoredRow[] = [];
  let pending = rows;

  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      await context.documentClient.send(conditionalPuts(context, pending));

      return { written: pending, present };
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      const reasons = cancellationReasonsOf(error);
      const existed = pending.flatMap((row, index) => presentRowOf(row, reasons[index]));
      present.push(...existed);
      pending = pending.filter((row) => !existed.some((stored) => stored.taskId === row.taskId));
      if (existed.length > 0) continue;
      if (!isTransientCancellation(reasons)) throw error;
      if (attempt >= context.retryPolicy.maxAttempts) {
        throw new BatchRetriesExhaustedError('TransactWriteItems', attempt, pending.length);
      }
      await context.sleep(backoffDelayMs(context.retryPolicy, attempt, context.random));
    }
  }

  return { written: [], present };
};

const conditionalPuts = (context: RowStoreContext, rows: readonly TaskItem[]) =>
  new TransactWriteCommand({
    // A resend by the SDK after a timeout carries the same token, so a
    // transaction that did commit is not reported as "rows already exist".
    ClientRequestToken: randomUUID(),
    TransactItems: rows.map((row) => ({
      Put: {
        TableName: context.tables.tasks,
        Item: { ...row },
        ConditionExpression: 'attribute_not_exists(#taskId)',
        ExpressionAttributeNames: { '#taskId': 'taskId' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    })),
  });

/**
 * Sends `first`, then whatever each response reports unprocessed, backing off
 * between attempts, until nothing is left or the retry policy runs out.
 */
const untilProcessed = async <T>(
  context: RowStoreContext,
  operation: string,
  first: T[],
  sendOnce: (pending: T[]) => Promise<T[]>,
): Promise<void> => {
  let pending = first;

  for (let attempt = 1; ; attempt++) {
    pending = await sendOnce(pending);
    if (pending.length === 0) return;
    if (attempt >= context.retryPolicy.maxAttempts) {
      throw new BatchRetriesExhaustedError(operation, attempt, pending.length);
    }

    context.logger.debug('batch request left items unprocessed; retrying', {
      runId: context.runId,
      operation,
      remaining: pending.length,
      attempt,
    });
    await context.sleep(backoffDelayMs(context.retryPolicy, attempt, context.random));
  }
};

/** Waits for every promise, then throws the first failure, so none is left running. */
const allOrFirstFailure = async (promises: readonly Promise<unknown>[]): Promise<void> => {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');

  if (failed !== undefined) throw failed.reason;
};

/**
 * The stored row behind a put that failed its "does not exist" condition, or
 * nothing if the put failed for another reason. A row whose status cannot be
 * read counts as pending: a spare message is harmless, a missing one is not.
 */
const presentRowOf = (row: TaskItem, reason: CancellationReason | undefined): StoredRow[] => {
  if (reason?.Code !== 'ConditionalCheckFailed') return [];
  const old = reason.Item === undefined ? {} : unmarshall(reason.Item);

  return [
    {
      taskId: row.taskId,
      url: typeof old.url === 'string' ? old.url : row.url,
      status: (old.status as TaskStatus | undefined) ?? TASK_STATUS.pending,
    },
  ];
};

const keyOf = (row: TaskKey): TaskKey => ({ runId: row.runId, taskId: row.taskId });

const partition = <T>(items: readonly T[], size: number): T[][] => {
  const parts: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    parts.push(items.slice(start, start + size));
  }

  return parts;
};
