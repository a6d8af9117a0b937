/**
 * Run submission: run meta first (status `submitting`, with `total`), then
 * task rows in chunks, each chunk's messages once its rows are stored, then
 * `running`. Submitting the same run id again resumes: it writes only the
 * missing rows, never overwrites a task that exists, and re-sends messages
 * for the tasks that are still pending.
 */
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { checkRetryPolicy, realSleep, type RetryPolicy, type Sleep } from './backoff';
import { InvalidRunInputError } from './errors';
import {
  silentLogger,
  systemClock,
  type Clock,
  type DomainLogger,
  type TableNames,
  type TaskSender,
} from './ports';
import { isConditionalCheckFailed, oldItemOf } from './protocol/dynamo-failures';
import {
  counterShardFor,
  DEFAULT_COUNTER_SHARDS,
  isValidRunId,
  MAX_COUNTER_SHARDS,
  RUN_ID_PATTERN,
  RUN_META_SK,
  RUN_STATUS,
  runMetaKey,
  TASK_STATUS,
  taskIdForPosition,
  type RunMetaItem,
  type RunStatus,
  type TaskItem,
} from './schema';
import { boundedRunner } from './submission/bounded-runner';
import {
  InvalidSubmitRequestError,
  RunMetaMissingError,
  RunMismatchError,
  SourceCountMismatchError,
  SubmitIncompleteError,
  type RunDifference,
} from './submission/errors';
import { storeMissingRows, storeNewRows, type PlannedRow } from './submission/task-rows';
import type { SubmitProgress, SubmitTaskInput } from './submission/types';

export * from './submission/errors';
export type { SubmitProgress, SubmitTaskInput } from './submission/types';
export { BATCH_WRITE_MAX_ITEMS } from './submission/task-rows';

/** Tasks handled as one unit: read, stored, then enqueued. BatchGetItem takes 100 keys. */
export const SUBMIT_CHUNK_SIZE = 100;

/** Chunks in flight at once unless told otherwise. */
export const DEFAULT_SUBMIT_CONCURRENCY = 4;

/** Upper bound on chunks in flight at once. */
export const MAX_SUBMIT_CONCURRENCY = 32;

/**
 * Largest run: task ids have nine digits (`taskIdForPosition`), so positions
 * stay below 10^9 and ids sort in input order.
 */
export const MAX_RUN_TASKS = 999_999_999;

/** Retries of unprocessed batch items and cancelled transactions. */
export const DEFAULT_SUBMIT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 50,
  maxDelayMs: 5_000,
};

export interface SubmitRunDependencies {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly sender: TaskSender;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: DomainLogger;
  /** Retries of unprocessed batch items and cancelled transactions. @default DEFAULT_SUBMIT_RETRY_POLICY */
  readonly retryPolicy?: RetryPolicy;
  /** Chunks of {@link SUBMIT_CHUNK_SIZE} tasks in flight at once, 1 to 32. @default 4 */
  readonly concurrency?: number;
  /** Waits between retries. @default a real timer */
  readonly sleep?: Sleep;
  /** Source of back-off jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
}

export interface SubmitRunRequest {
  readonly runId: string;
  /**
   * Opens the input from its start. Called once per submission; the tasks it
   * yields must be the validated ones, in the same order, `total` of them.
   */
  readonly source: () => AsyncIterable<SubmitTaskInput>;
  /** Number of tasks the source yields, 1 to {@link MAX_RUN_TASKS}. */
  readonly total: number;
  /** Counter shard items of the run, 1 to {@link MAX_COUNTER_SHARDS}. @default DEFAULT_COUNTER_SHARDS */
  readonly shardCount?: number;
  /** Called after each chunk of tasks is stored and enqueued. */
  readonly onProgress?: (progress: SubmitProgress) => void;
}

export interface SubmitRunSummary {
  readonly runId: string;
  readonly total: number;
  /** Task rows this submission wrote. */
  readonly rowsWritten: number;
  /** Task rows found already stored (by an earlier or concurrent submission). */
  readonly rowsExisting: number;
  readonly messagesSent: number;
  /** Whether the run existed before this submission. */
  readonly resumed: boolean;
  /** The run's status when the submission returned. */
  readonly status: RunStatus;
}

/**
 * Submits a run, or resumes an interrupted submission of it.
 *
 * A run found `running` or `completed` is left alone: it only gets there once
 * every row is stored and every message sent, and re-sending the messages of
 * its pending tasks would cut short the back-off of released tasks. Such a
 * call checks `total` and `shardCount` and returns with nothing written.
 *
 * @throws {InvalidSubmitRequestError} a request field is out of range.
 * @throws {RunMismatchError} the run exists with another total, shard count or URLs.
 * @throws {SourceCountMismatchError} the source yielded another number of tasks than `total`.
 * @throws {SubmitIncompleteError} any other failure; the same call again resumes.
 */
export const submitRun = async (
  deps: SubmitRunDependencies,
  request: SubmitRunRequest,
): Promise<SubmitRunSummary> => {
  const context = createContext(deps, request);

  try {
    return await runSubmission(context);
  } catch (error) {
    if (isFinalError(error)) throw error;
    throw new SubmitIncompleteError(context.runId, progressOf(context), { cause: error });
  }
};

interface SubmitContext {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly sender: TaskSender;
  readonly clock: Clock;
  readonly logger: DomainLogger;
  readonly retryPolicy: RetryPolicy;
  readonly concurrency: number;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly runId: string;
  readonly source: () => AsyncIterable<SubmitTaskInput>;
  readonly total: number;
  readonly shardCount: number;
  readonly onProgress?: (progress: SubmitProgress) => void;
  resumed: boolean;
  readonly counts: { rowsWritten: number; rowsExisting: number; messagesSent: number };
}

const createContext = (deps: SubmitRunDependencies, request: SubmitRunRequest): SubmitContext => {
  checkRequest(request);
  const concurrency = deps.concurrency ?? DEFAULT_SUBMIT_CONCURRENCY;
  if (!isIntegerIn(concurrency, 1, MAX_SUBMIT_CONCURRENCY)) {
    throw new RangeError(
      `concurrency must be an integer from 1 to ${MAX_SUBMIT_CONCURRENCY}; got ${concurrency}`,
    );
  }

  return {
    documentClient: deps.documentClient,
    tables: deps.tables,
    sender: deps.sender,
    clock: deps.clock ?? systemClock,
    logger: deps.logger ?? silentLogger,
    retryPolicy: checkRetryPolicy('retryPolicy', deps.retryPolicy ?? DEFAULT_SUBMIT_RETRY_POLICY),
    concurrency,
    sleep: deps.sleep ?? realSleep,
    random: deps.random ?? Math.random,
    runId: request.runId,
    source: request.source,
    total: request.total,
    shardCount: request.shardCount ?? DEFAULT_COUNTER_SHARDS,
    onProgress: request.onProgress,
    resumed: false,
    counts: { rowsWritten: 0, rowsExisting: 0, messagesSent: 0 },
  };
};

const checkRequest = (request: SubmitRunRequest): void => {
  if (typeof request.runId !== 'string' || !isValidRunId(request.runId)) {
    throw new InvalidSubmitRequestError('runId', `must match ${RUN_ID_PATTERN}`, request.runId);
  }
  if (!isIntegerIn(request.total, 1, MAX_RUN_TASKS)) {
    throw new InvalidSubmitRequestError(
      'total',
      `must be an integer from 1 to ${MAX_RUN_TASKS}`,
      request.total,
    );
  }
  const shardCount = request.shardCount ?? DEFAULT_COUNTER_SHARDS;
  if (!isIntegerIn(shardCount, 1, MAX_COUNTER_SHARDS)) {
    throw new InvalidSubmitRequestError(
      'shardCount',
      `must be an integer from 1 to ${MAX_COUNTER_SHARDS}`,
      shardCount,
    );
  }
};

const runSubmission = async (context: SubmitContext): Promise<SubmitRunSummary> => {
  const existing = await createRunMeta(context);
  context.resumed = existing !== undefined;
  if (existing !== undefined) checkSameRun(context, existing);

  if (existing !== undefined && existing.status !== RUN_STATUS.submitting) {
    context.logger.info('run already submitted', { runId: context.runId, status: existing.status });

    return summaryOf(context, existing.status);
  }

  context.logger.info('run submission started', {
    runId: context.runId,
    total: context.total,
    shardCount: context.shardCount,
    resumed: context.resumed,
  });
  await storeAndEnqueueTasks(context);
  const status = await markRunning(context);

  const summary = summaryOf(context, status);
  context.logger.info('run submission finished', { ...summary });

  return summary;
};

/**
 * Creates the run's meta item unless it exists. Returns the existing item of
 * a re-submission, or undefined when this call created the run.
 */
const createRunMeta = async (context: SubmitContext): Promise<RunMetaItem | undefined> => {
  const now = isoNow(context);
  const meta: RunMetaItem = {
    runId: context.runId,
    sk: RUN_META_SK,
    status: RUN_STATUS.submitting,
    total: context.total,
    shardCount: context.shardCount,
    createdAt: now,
    updatedAt: now,
  };

  try {
    await context.documentClient.send(
      new PutCommand({
        TableName: context.tables.runs,
        Item: meta,
        ConditionExpression: 'attribute_not_exists(#runId)',
        ExpressionAttributeNames: { '#runId': 'runId' },
      }),
    );

    return undefined;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }

  return readRunMeta(context);
};

const readRunMeta = async (context: SubmitContext): Promise<RunMetaItem> => {
  const response = await context.documentClient.send(
    new GetCommand({
      TableName: context.tables.runs,
      Key: runMetaKey(context.runId),
      ConsistentRead: true,
    }),
  );
  if (response.Item === undefined) throw new RunMetaMissingError(context.runId);

  return response.Item as RunMetaItem;
};

const checkSameRun = (context: SubmitContext, existing: RunMetaItem): void => {
  const differences: RunDifference[] = [];
  if (existing.total !== context.total) {
    differences.push({ field: 'total', existing: existing.total, requested: context.total });
  }
  if (existing.shardCount !== context.shardCount) {
    differences.push({
      field: 'shardCount',
      existing: existing.shardCount,
      requested: context.shardCount,
    });
  }

  if (differences.length > 0) throw new RunMismatchError(context.runId, differences);
};

/**
 * Reads the source once, in chunks, keeping a few chunks in flight. A chunk's
 * rows are stored before its messages are sent. The task count is checked as
 * the source is read, so a source longer than `total` writes nothing past it.
 */
const storeAndEnqueueTasks = async (context: SubmitContext): Promise<void> => {
  const runner = boundedRunner(context.concurrency);
  let chunk: PlannedRow[] = [];
  let position = 0;

  try {
    for await (const input of context.source()) {
      if (position === context.total) {
        throw new SourceCountMismatchError(context.runId, context.total, position + 1, false);
      }
      chunk.push(planRow(context, position, input));
      position++;
      if (chunk.length < SUBMIT_CHUNK_SIZE) continue;
      const full = chunk;
      chunk = [];
      await runner.run(() => storeAndEnqueueChunk(context, full));
    }
    if (chunk.length > 0) await runner.run(() => storeAndEnqueueChunk(context, chunk));
  } catch (error) {
    await runner.settle();
    throw error;
  }

  await runner.drain();
  if (position !== context.total) {
    throw new SourceCountMismatchError(context.runId, context.total, position, true);
  }
};

const planRow = (context: SubmitContext, position: number, input: SubmitTaskInput): PlannedRow => {
  const taskId = taskIdForPosition(position);
  const now = isoNow(context);
  const row: TaskItem = {
    runId: context.runId,
    taskId,
    url: input.url,
    status: TASK_STATUS.pending,
    attempts: 0,
    counterShard: counterShardFor(taskId, context.shardCount),
    ...(input.externalId !== undefined && { externalId: input.externalId }),
    createdAt: now,
    updatedAt: now,
  };

  return { row, line: input.line };
};

const storeAndEnqueueChunk = async (
  context: SubmitContext,
  chunk: readonly PlannedRow[],
): Promise<void> => {
  const stored = context.resumed
    ? await storeMissingRows(context, chunk)
    : await storeNewRows(context, chunk);
  context.counts.rowsWritten += stored.written.length;
  context.counts.rowsExisting += stored.existing;

  const messages = [...stored.written, ...stored.pendingExisting];
  if (messages.length > 0) await context.sender.sendTasks(messages);
  context.counts.messagesSent += messages.length;

  context.onProgress?.(progressOf(context));
};

const markRunning = async (context: SubmitContext): Promise<RunStatus> => {
  try {
    await context.documentClient.send(
      new UpdateCommand({
        TableName: context.tables.runs,
        Key: runMetaKey(context.runId),
        UpdateExpression: 'SET #status = :running, #updatedAt = :now',
        ConditionExpression: '#status = :submitting',
        ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: {
          ':running': RUN_STATUS.running,
          ':submitting': RUN_STATUS.submitting,
          ':now': isoNow(context),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

    return RUN_STATUS.running;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    // Another submission of the same run got there first, or the run moved on.
    const current = oldItemOf(error);
    if (current === undefined) throw new RunMetaMissingError(context.runId);

    return current.status as RunStatus;
  }
};

/** Errors that re-running the same submission would not cure. */
const isFinalError = (error: unknown): boolean =>
  error instanceof InvalidRunInputError ||
  error instanceof RunMetaMissingError ||
  error instanceof SubmitIncompleteError;

const summaryOf = (context: SubmitContext, status: RunStatus): SubmitRunSummary => ({
  runId: context.runId,
  total: context.total,
  rowsWritten: context.counts.rowsWritten,
  rowsExisting: context.counts.rowsExisting,
  messagesSent: context.counts.messagesSent,
  resumed: context.resumed,
  status,
});

const progressOf = (context: SubmitContext): SubmitProgress => ({
  written: context.counts.rowsWritten + context.counts.rowsExisting,
  sent: context.counts.messagesSent,
  total: context.total,
});

const isIntegerIn = (value: unknown, min: number, max: number): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

const isoNow = (context: SubmitContext): string => new Date(context.clock()).toISOString();
