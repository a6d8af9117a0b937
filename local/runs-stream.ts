/**
 * The runs table's stream, read from DynamoDB Local and fed to the finalizer
 * with the same event filter the stack gives the finalizer's event source:
 * inserts and modifications of counter shard items and of the run meta item.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { DomainLogger, TableNames } from '../lambdas/domain/ports';
import { COUNTER_SHARD_SK_PREFIX, RUN_META_SK } from '../lambdas/domain/schema';
import { InvalidSettingError } from './errors';
import {
  createLocalStreamsClient,
  DynamoDbStreamPoller,
  STARTING_POSITION,
  type StreamHandler,
} from './stream-poller';
import { runsStreamArn } from './tables';

/** How often the stream is read when it had nothing new. */
const RUNS_STREAM_POLL_INTERVAL_MS = 100;

/** Keeps what the stack's filter keeps: writes to counter shards and to the run meta item. */
export const isFinalizerRecord = (record: DynamoDBRecord): boolean => {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return false;
  const sk = record.dynamodb?.Keys?.sk?.S;

  return sk === RUN_META_SK || (sk?.startsWith(COUNTER_SHARD_SK_PREFIX) ?? false);
};

export interface RunsStreamFinalizerOptions {
  readonly client: DynamoDBClient;
  /** The DynamoDB Local endpoint; its streams are served on the same port. */
  readonly endpoint: string;
  readonly tables: TableNames;
  readonly handler: StreamHandler;
  readonly logger: DomainLogger;
}

export interface RunsStreamFinalizer {
  stop(): Promise<void>;
}

/**
 * Starts reading the runs table's stream from its latest records. One cycle
 * runs before this resolves, so the shard iterators exist before anything
 * is submitted and no later record is missed.
 */
export const startRunsStreamFinalizer = async (
  options: RunsStreamFinalizerOptions,
): Promise<RunsStreamFinalizer> => {
  const streamArn = await runsStreamArn(options.client, options.tables);
  if (!streamArn) {
    throw new InvalidSettingError('tables.runs', 'a table with a stream', options.tables.runs);
  }
  const streams = createLocalStreamsClient(options.endpoint);
  const poller = new DynamoDbStreamPoller({
    client: streams,
    streamArn,
    handler: options.handler,
    functionName: 'conveyor-local-finalizer',
    pollIntervalMs: RUNS_STREAM_POLL_INTERVAL_MS,
    startingPosition: STARTING_POSITION.latest,
    filter: isFinalizerRecord,
    logger: options.logger,
  });

  await poller.pollOnce();
  poller.start();

  return {
    stop: async () => {
      await poller.stop();
      streams.destroy();
    },
  };
};
