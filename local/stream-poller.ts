/**
 * An emulation of Lambda's DynamoDB stream event source mapping, reading the
 * stream DynamoDB Local serves: it follows the stream's shards (a child shard
 * only after its parent is read to the end), invokes a handler with records in
 * Lambda's shape, and checkpoints only what the handler acknowledged.
 *
 * Failure handling, like Lambda's with bisecting off: a batch whose handler
 * throws, times out or returns an invalid response is retried whole; a
 * `batchItemFailures` response is retried from the lowest failed sequence
 * number, the records before it counting as done. A shard's later records
 * wait behind a failing batch (in-order delivery). After
 * `maximumRetryAttempts` retries the batch is dropped (-1 retries forever, the
 * Lambda default). Shards are read one after another, one batch each per
 * cycle (parallelization factor 1).
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type AttributeValue as StreamsAttributeValue,
  type Shard,
  type ShardIteratorType,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { silentLogger, systemClock, type Clock, type DomainLogger } from '../lambdas/domain/ports';
import { LOCAL_AWS } from './dynamodb-local';
import { InvalidSettingError } from './errors';
import { invokeWithTimeout, type AsyncHandler } from './invoke';
import { createLambdaContext } from './lambda-context';
import { delay, settlesWithin } from './timing';

export const DEFAULT_STREAM_BATCH_SIZE = 100;
export const MAX_STREAM_BATCH_SIZE = 1_000;
export const DEFAULT_STREAM_POLL_INTERVAL_MS = 250;
export const DEFAULT_STREAM_RETRY_DELAY_MS = 500;
export const DEFAULT_STREAM_INVOCATION_TIMEOUT_MS = 30_000;
export const DEFAULT_STREAM_STOP_TIMEOUT_MS = 10_000;
/** Retry a failing batch until it succeeds, as Lambda does by default. */
export const RETRY_FOREVER = -1;

export const STARTING_POSITION = {
  trimHorizon: 'TRIM_HORIZON',
  latest: 'LATEST',
} as const;

export type StartingPosition = (typeof STARTING_POSITION)[keyof typeof STARTING_POSITION];

/** A handler as conveyor's stream-triggered function exports it. */
export type StreamHandler = AsyncHandler<DynamoDBStreamEvent, DynamoDBBatchResponse | void>;

/** Keeps a record when it returns true, like a Lambda event filter. */
export type StreamRecordFilter = (record: DynamoDBRecord) => boolean;

export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  /** Name in the context and logs. @default 'local-stream-consumer' */
  readonly functionName?: string;
  /** Most records per invocation, 1–1000. @default 100 */
  readonly batchSize?: number;
  /** Pause after a cycle that read nothing. @default 250 */
  readonly pollIntervalMs?: number;
  /** Where reading starts in the shards open at the first cycle. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Records it rejects are skipped without an invocation. @default keep all */
  readonly filter?: StreamRecordFilter;
  /** The function timeout. @default 30000 */
  readonly invocationTimeoutMs?: number;
  /** Honour `batchItemFailures` in the handler's response. @default true */
  readonly reportBatchItemFailures?: boolean;
  /** Retries of a failing batch before it is dropped, -1 for no limit. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** Wait before a failed batch is retried. @default 500 */
  readonly retryDelayMs?: number;
  /** Time source for the context's remaining time. @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: DomainLogger;
}

export interface StreamPollerStats {
  readonly invocations: number;
  /** Records the handler acknowledged. */
  readonly recordsDelivered: number;
  /** Records the filter skipped. */
  readonly recordsFiltered: number;
  readonly failedInvocations: number;
  readonly retries: number;
  /** Records dropped after the last retry. */
  readonly discardedRecords: number;
  /** Shards read to their end. */
  readonly shardsFinished: number;
  /** Stream requests that failed (the cycle is repeated). */
  readonly pollErrors: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface ShardCursor {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly firstIteratorType: ShardIteratorType;
  iterator: string | undefined;
  /** The last sequence number acknowledged (or filtered out). */
  checkpoint: string | undefined;
  /** Records read but not acknowledged yet, in order. */
  pending: DynamoDBRecord[];
  /** Sequence number of the last record of the batch `pending` came from. */
  batchEnd: string | undefined;
  failedAttempts: number;
  retryAt: number;
  /** GetRecords returned no next iterator: the shard is closed and read to its end. */
  exhausted: boolean;
  finished: boolean;
}

/** A DynamoDB Streams client for a DynamoDB Local endpoint. */
export const createLocalStreamsClient = (endpoint: string): DynamoDBStreamsClient =>
  new DynamoDBStreamsClient({ endpoint, ...LOCAL_AWS });

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** SDK attribute values carry binaries as bytes; Lambda's JSON carries them as base64. */
const toLambdaValue = (value: StreamsAttributeValue): AttributeValue => {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaMap(value.M) };

  return value as AttributeValue;
};

const toLambdaMap = (image: Record<string, StreamsAttributeValue>) =>
  Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));

const toLambdaImage = (image: Record<string, StreamsAttributeValue> | undefined) =>
  image && toLambdaMap(image);

/** Reshapes a GetRecords record into the record Lambda hands a stream handler. */
export const toLambdaStreamRecord = (record: StreamsRecord, streamArn: string): DynamoDBRecord => {
  const change = record.dynamodb ?? {};
  const created = change.ApproximateCreationDateTime;

  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      Keys: toLambdaImage(change.Keys),
      ...(change.NewImage ? { NewImage: toLambdaImage(change.NewImage) } : {}),
      ...(change.OldImage ? { OldImage: toLambdaImage(change.OldImage) } : {}),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
};

const sequenceOf = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';

const requireInteger = (setting: string, value: number, min: number, max: number) => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSettingError(setting, `an integer from ${min} to ${max}`, value);
  }
};

/**
 * The index in `batch` to retry from, undefined when the handler
 * acknowledged everything. An invalid response retries the whole batch.
 */
const retryFromIndex = (
  response: unknown,
  batch: readonly DynamoDBRecord[],
): number | undefined => {
  if (response === undefined || response === null) return undefined;
  if (typeof response !== 'object') return 0;
  const failures = (response as Partial<DynamoDBBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 0;

  const positions = new Map(batch.map((record, index) => [sequenceOf(record), index]));
  let earliest: number | undefined;
  for (const failure of failures as unknown[]) {
    const position = positions.get(
      String((failure as { itemIdentifier?: unknown } | null)?.itemIdentifier),
    );
    if (position === undefined) return 0;
    earliest = Math.min(earliest ?? position, position);
  }

  return earliest;
};

/** Reads one DynamoDB stream and drives one handler with its records. */
export class DynamoDbStreamPoller {
  readonly functionName: string;

  private readonly options: StreamPollerOptions;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly invocationTimeoutMs: number;
  private readonly maximumRetryAttempts: number;
  private readonly retryDelayMs: number;
  private readonly clock: Clock;
  private readonly logger: DomainLogger;
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly lateInvocations = new Set<Promise<void>>();
  private readonly counters: Mutable<StreamPollerStats> = {
    invocations: 0,
    recordsDelivered: 0,
    recordsFiltered: 0,
    failedInvocations: 0,
    retries: 0,
    discardedRecords: 0,
    shardsFinished: 0,
    pollErrors: 0,
  };
  private cycle: Promise<unknown> = Promise.resolve();
  private polling: Promise<void> | undefined;
  private abortPolling = new AbortController();
  private discoveredOnce = false;

  constructor(options: StreamPollerOptions) {
    this.batchSize = options.batchSize ?? DEFAULT_STREAM_BATCH_SIZE;
    requireInteger('batchSize', this.batchSize, 1, MAX_STREAM_BATCH_SIZE);
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_STREAM_POLL_INTERVAL_MS;
    requireInteger('pollIntervalMs', this.pollIntervalMs, 1, 60_000);
    this.invocationTimeoutMs = options.invocationTimeoutMs ?? DEFAULT_STREAM_INVOCATION_TIMEOUT_MS;
    requireInteger('invocationTimeoutMs', this.invocationTimeoutMs, 1, 900_000);
    this.maximumRetryAttempts = options.maximumRetryAttempts ?? RETRY_FOREVER;
    requireInteger('maximumRetryAttempts', this.maximumRetryAttempts, RETRY_FOREVER, 10_000);
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_STREAM_RETRY_DELAY_MS;
    requireInteger('retryDelayMs', this.retryDelayMs, 0, 600_000);

    this.options = options;
    this.functionName = options.functionName ?? 'local-stream-consumer';
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
   * Stops polling after the current cycle and waits up to `timeoutMs` for
   * timed-out invocations still running. Resolves with how many had not finished.
   */
  async stop(timeoutMs = DEFAULT_STREAM_STOP_TIMEOUT_MS): Promise<{ unfinished: number }> {
    this.abortPolling.abort();
    await this.polling;
    this.polling = undefined;

    const finished = await settlesWithin(Promise.allSettled([...this.lateInvocations]), timeoutMs);

    return { unfinished: finished ? 0 : this.lateInvocations.size };
  }

  /**
   * Runs one cycle: discovers shards, then reads one batch from each readable
   * shard (or retries its failed batch when due) and invokes the handler.
   * Resolves with the number of records read from the stream. Cycles never
   * overlap; tests call this instead of start() to step by hand.
   */
  pollOnce(): Promise<number> {
    const run = this.cycle.then(() => this.runCycle());
    this.cycle = run.catch(() => undefined);

    return run;
  }

  stats(): StreamPollerStats {
    return { ...this.counters };
  }

  private async pollUntilStopped(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const read = await this.pollOnce().catch((error: unknown) => {
        this.counters.pollErrors += 1;
        this.logger.error('Stream poll failed', { streamArn: this.options.streamArn, error });

        return 0;
      });
      if (read === 0) await delay(this.pollIntervalMs, signal);
    }
  }

  private async runCycle(): Promise<number> {
    await this.discoverShards();

    let read = 0;
    for (const cursor of this.readableCursors()) read += await this.advance(cursor);

    return read;
  }

  private async discoverShards(): Promise<void> {
    const position = this.discoveredOnce
      ? STARTING_POSITION.trimHorizon
      : (this.options.startingPosition ?? STARTING_POSITION.trimHorizon);
    let exclusiveStartShardId: string | undefined;
    do {
      const described = await this.options.client.send(
        new DescribeStreamCommand({
          StreamArn: this.options.streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      const description = described.StreamDescription;
      for (const shard of description?.Shards ?? []) this.addShard(shard, position);
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);

    this.discoveredOnce = true;
  }

  private addShard(shard: Shard, position: StartingPosition) {
    if (!shard.ShardId || this.cursors.has(shard.ShardId)) return;

    const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    const skipClosed = position === STARTING_POSITION.latest && closed;
    this.cursors.set(shard.ShardId, {
      shardId: shard.ShardId,
      parentShardId: shard.ParentShardId,
      firstIteratorType: position,
      iterator: undefined,
      checkpoint: undefined,
      pending: [],
      batchEnd: undefined,
      failedAttempts: 0,
      retryAt: 0,
      exhausted: skipClosed,
      finished: skipClosed,
    });
  }

  /** Unfinished shards whose parent is finished or no longer listed. */
  private readableCursors(): ShardCursor[] {
    return [...this.cursors.values()].filter((cursor) => {
      if (cursor.finished) return false;
      const parent = cursor.parentShardId ? this.cursors.get(cursor.parentShardId) : undefined;

      return parent === undefined || parent.finished;
    });
  }

  private async advance(cursor: ShardCursor): Promise<number> {
    const read = cursor.pending.length === 0 ? await this.readBatch(cursor) : 0;
    if (cursor.pending.length > 0 && Date.now() >= cursor.retryAt) await this.deliver(cursor);

    if (cursor.pending.length === 0 && cursor.exhausted) {
      cursor.finished = true;
      this.counters.shardsFinished += 1;
    }

    return read;
  }

  private async readBatch(cursor: ShardCursor): Promise<number> {
    const iterator = cursor.iterator ?? (await this.openIterator(cursor));
    let output;
    try {
      output = await this.options.client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }),
      );
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      cursor.iterator = undefined;

      return 0;
    }

    const records = (output.Records ?? []).map((record) =>
      toLambdaStreamRecord(record, this.options.streamArn),
    );
    cursor.iterator = output.NextShardIterator;
    cursor.exhausted = !output.NextShardIterator;
    this.takeBatch(cursor, records);

    return records.length;
  }

  private takeBatch(cursor: ShardCursor, records: DynamoDBRecord[]) {
    const last = records.at(-1);
    if (!last) return;

    const kept = this.options.filter ? records.filter(this.options.filter) : records;
    this.counters.recordsFiltered += records.length - kept.length;
    cursor.batchEnd = sequenceOf(last);
    cursor.pending = kept;
    if (kept.length === 0) cursor.checkpoint = cursor.batchEnd;
  }

  private async openIterator(cursor: ShardCursor): Promise<string | undefined> {
    const resumed = cursor.checkpoint !== undefined;
    const opened = await this.options.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: cursor.shardId,
        ShardIteratorType: resumed ? 'AFTER_SEQUENCE_NUMBER' : cursor.firstIteratorType,
        SequenceNumber: cursor.checkpoint,
      }),
    );

    return opened.ShardIterator;
  }

  private async deliver(cursor: ShardCursor): Promise<void> {
    const batch = cursor.pending;
    const retryFrom = await this.invoke(batch);
    if (retryFrom === undefined) {
      this.acknowledge(cursor, batch.length);
      return;
    }

    this.counters.recordsDelivered += retryFrom;
    this.counters.failedInvocations += 1;
    cursor.failedAttempts += 1;
    if (
      this.maximumRetryAttempts !== RETRY_FOREVER &&
      cursor.failedAttempts > this.maximumRetryAttempts
    ) {
      this.discard(cursor, batch.length - retryFrom);
      return;
    }

    cursor.pending = batch.slice(retryFrom);
    cursor.retryAt = Date.now() + this.retryDelayMs;
    this.counters.retries += 1;
  }

  private acknowledge(cursor: ShardCursor, count: number) {
    this.counters.recordsDelivered += count;
    cursor.pending = [];
    cursor.checkpoint = cursor.batchEnd;
    cursor.failedAttempts = 0;
  }

  private discard(cursor: ShardCursor, count: number) {
    this.logger.error('Stream batch dropped after its last retry', {
      functionName: this.functionName,
      shardId: cursor.shardId,
      firstSequenceNumber: sequenceOf(cursor.pending[0] ?? {}),
      records: count,
    });
    this.counters.discardedRecords += count;
    cursor.pending = [];
    cursor.checkpoint = cursor.batchEnd;
    cursor.failedAttempts = 0;
  }

  /** Invokes the handler; resolves with the index to retry from, undefined on success. */
  private async invoke(batch: DynamoDBRecord[]): Promise<number | undefined> {
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.invocationTimeoutMs,
      clock: this.clock,
    });
    this.counters.invocations += 1;

    const outcome = await invokeWithTimeout(
      this.options.handler,
      { Records: batch },
      context,
      this.invocationTimeoutMs,
    );
    if (outcome.kind === 'returned') {
      return this.options.reportBatchItemFailures === false
        ? undefined
        : retryFromIndex(outcome.value, batch);
    }

    if (outcome.kind === 'timed-out') this.trackLate(outcome.late);
    this.logger.warn('Stream batch failed; retrying', {
      functionName: this.functionName,
      outcome: outcome.kind,
      error: outcome.kind === 'threw' ? outcome.error : undefined,
      firstSequenceNumber: sequenceOf(batch[0] ?? {}),
    });

    return 0;
  }

  private trackLate(late: Promise<void>) {
    this.lateInvocations.add(late);
    void late.then(() => this.lateInvocations.delete(late));
  }
}
