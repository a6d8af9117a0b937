/**
 * The whole conveyor pipeline on one machine: DynamoDB Local, a local task
 * queue with redrive to a local dead-letter queue, event source emulations
 * driving the worker and dead-letter handlers, and the runs table's stream
 * feeding the finalizer — the same handler factories the Lambdas use.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TaskInput } from '../cli/input';
import { DEFAULTS } from '../lambdas/config';
import { FileResultStore } from '../lambdas/adapters/fs-result-store';
import type { DeadLetterDeps } from '../lambdas/domain/dead-letter';
import type { FinalizerDeps } from '../lambdas/domain/finalizer';
import {
  silentLogger,
  systemClock,
  type DomainLogger,
  type FetchPage,
  type MessageQueue,
  type RunCompletedDetail,
  type TableNames,
} from '../lambdas/domain/ports';
import { readProgress, type RunProgress } from '../lambdas/domain/progress';
import { DEFAULT_TABLE_NAMES, RUN_STATUS } from '../lambdas/domain/schema';
import { submitRun, type SubmitRunSummary } from '../lambdas/domain/submit';
import {
  DEFAULT_WORKER_SETTINGS,
  type WorkerDeps,
  type WorkerSettings,
} from '../lambdas/domain/worker';
import { createGateway } from '../lambdas/gateway';
import { documentClientFor } from '../lambdas/handlers/aws-clients';
import { createDeadLetterHandler } from '../lambdas/handlers/dead-letter';
import { createFinalizerHandler } from '../lambdas/handlers/finalizer';
import { createWorkerHandler } from '../lambdas/handlers/worker';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocalInstance } from './dynamodb-local';
import { InvalidSettingError } from './errors';
import { SqsEventSource, type SqsEventSourceStats } from './event-source';
import { InMemoryMetrics } from './memory-metrics';
import { LocalQueue, messageQueuePort, taskSenderPort } from './queue';
import { RunWaitTimeoutError } from './pipeline-errors';
import { startRunsStreamFinalizer, type RunsStreamFinalizer } from './runs-stream';
import { createTables } from './tables';

/** Defaults of {@link LocalPipelineOptions}, chosen for runs on one machine. */
export const LOCAL_PIPELINE_DEFAULTS = {
  /** The worker's "Lambda timeout". */
  invocationTimeoutMs: 10_000,
  batchSize: 10,
  maximumConcurrency: 5,
  msPerSecond: 1_000,
  duplicateRate: 0,
  seed: 1,
  /** How long stop() waits for invocations still running. */
  stopTimeoutMs: 10_000,
  /** How often waitForRun reads the run's progress. */
  progressPollMs: 200,
  /** How long waitForRun waits. */
  waitTimeoutMs: 10 * 60_000,
} as const;

/** AWS asks for a visibility timeout of at least six times the function timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Receives beyond the protocol's own need, as the stack allows them. */
const SPARE_RECEIVES = 4;

export interface LocalPipelineOptions {
  /** Use this DynamoDB Local (tests pass the jest one); otherwise start one (and stop it in stop()). */
  readonly dynamoDbEndpoint?: string;
  /** Port for the DynamoDB Local the pipeline starts. @default a free port */
  readonly dynamoDbPort?: number;
  /** Keep DynamoDB Local's data in this folder (only when the pipeline starts it). @default in memory */
  readonly dataDir?: string;
  /** Table names. @default fresh random names when dynamoDbEndpoint is given, DEFAULT_TABLE_NAMES otherwise */
  readonly tables?: TableNames;
  /** The task queue's visibility timeout in real ms. @default 6 × invocationTimeoutMs */
  readonly visibilityTimeoutMs?: number;
  /** Receives after which a task message is redriven to the local DLQ. @default (2 × maxAttempts + 1) scaled by 1000 / msPerSecond, + 4 */
  readonly maxReceiveCount?: number;
  /** Records per worker invocation, 1–10. @default 10 */
  readonly batchSize?: number;
  /** Worker invocations in flight at once. @default 5 */
  readonly maximumConcurrency?: number;
  /** The "Lambda timeout"; Context.getRemainingTimeInMillis follows it. @default 10000 */
  readonly invocationTimeoutMs?: number;
  /** Share of receives (0–1) that also leave a duplicate copy visible. @default 0 */
  readonly duplicateRate?: number;
  /** Seed of the queues' random sources. @default 1 */
  readonly seed?: number;
  /** How many real milliseconds one "second" of SQS-shaped APIs (ChangeMessageVisibility, delays) lasts. @default 1000 */
  readonly msPerSecond?: number;
  /**
   * maxAttempts, leaseMarginMs, settleReserveMs.
   * @default maxAttempts 3; leaseMarginMs 5000 × msPerSecond / 1000; settleReserveMs min(3000, invocationTimeoutMs / 4)
   */
  readonly workerSettings?: Partial<WorkerSettings>;
  /** @default a gateway (createGateway) that allows only 127.0.0.1, where the demo site listens */
  readonly fetchPage?: FetchPage;
  /** Results folder. @default a temp folder */
  readonly resultsDir?: string;
  /** Seams for fault injection: each receives the built deps and returns the ones to use. */
  readonly wrapWorkerDeps?: (deps: WorkerDeps) => WorkerDeps;
  readonly wrapDeadLetterDeps?: (deps: DeadLetterDeps) => DeadLetterDeps;
  readonly wrapFinalizerDeps?: (deps: FinalizerDeps) => FinalizerDeps;
  /** Replace the worker entirely (the baselines in bench/ do). @default createWorkerHandler */
  readonly createWorker?: (
    deps: WorkerDeps,
  ) => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  /** @default silentLogger (Powertools JSON logs would flood a terminal) */
  readonly logger?: DomainLogger;
}

/** Event source statistics of the two queue consumers. */
export interface LocalPipelineStats {
  readonly worker: SqsEventSourceStats;
  readonly deadLetter: SqsEventSourceStats;
}

export interface WaitForRunOptions {
  /** @default 600000 */
  readonly timeoutMs?: number;
  /** Called with each progress read (about every 200 ms). */
  readonly onProgress?: (progress: RunProgress) => void;
}

export interface LocalPipeline {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly taskQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue;
  /** Counts by METRIC name, from the worker, dead-letter handler and finalizer. */
  readonly metrics: InMemoryMetrics;
  /** Run-completed events the finalizer published, in order. */
  readonly completedEvents: readonly RunCompletedDetail[];
  /** The DynamoDB endpoint in use. */
  readonly dynamoDbEndpoint: string;
  /** Where results are written. */
  readonly resultsDir: string;
  submit(
    runId: string,
    inputs: readonly TaskInput[] | (() => AsyncIterable<TaskInput>),
  ): Promise<SubmitRunSummary>;
  /** Resolves when the run's meta says completed (or rejects after timeoutMs with the progress so far). */
  waitForRun(runId: string, options?: WaitForRunOptions): Promise<RunProgress>;
  stats(): LocalPipelineStats;
  /** Stops pollers (waits for in-flight invocations with a bound), DynamoDB Local if it started it. */
  stop(): Promise<void>;
}

interface ResolvedSettings {
  readonly invocationTimeoutMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maximumConcurrency: number;
  readonly duplicateRate: number;
  readonly seed: number;
  readonly msPerSecond: number;
  readonly workerSettings: WorkerSettings;
}

const resolveSettings = (options: LocalPipelineOptions): ResolvedSettings => {
  const defaults = LOCAL_PIPELINE_DEFAULTS;
  const msPerSecond = options.msPerSecond ?? defaults.msPerSecond;
  if (!(msPerSecond > 0)) throw new InvalidSettingError('msPerSecond', 'above 0', msPerSecond);
  const invocationTimeoutMs = options.invocationTimeoutMs ?? defaults.invocationTimeoutMs;
  const workerSettings: WorkerSettings = {
    maxAttempts: DEFAULT_WORKER_SETTINGS.maxAttempts,
    leaseMarginMs: Math.round((DEFAULTS.leaseMarginMs * msPerSecond) / 1_000),
    settleReserveMs: Math.min(DEFAULTS.settleReserveMs, Math.round(invocationTimeoutMs / 4)),
    ...options.workerSettings,
  };
  const receivesPerLease = Math.max(1, Math.ceil(1_000 / msPerSecond));

  return {
    invocationTimeoutMs,
    visibilityTimeoutMs:
      options.visibilityTimeoutMs ?? invocationTimeoutMs * VISIBILITY_TIMEOUT_FACTOR,
    maxReceiveCount:
      options.maxReceiveCount ??
      (2 * workerSettings.maxAttempts + 1) * receivesPerLease + SPARE_RECEIVES,
    batchSize: options.batchSize ?? defaults.batchSize,
    maximumConcurrency: options.maximumConcurrency ?? defaults.maximumConcurrency,
    duplicateRate: options.duplicateRate ?? defaults.duplicateRate,
    seed: options.seed ?? defaults.seed,
    msPerSecond,
    workerSettings,
  };
};

/**
 * The handlers' queue port with SQS-shaped seconds scaled to `msPerSecond`
 * real milliseconds each, so back-offs and deferrals pass quickly in tests.
 */
const scaledQueuePort = (port: MessageQueue, msPerSecond: number): MessageQueue => ({
  changeVisibility: (receiptHandle, seconds) =>
    port.changeVisibility(receiptHandle, (seconds * msPerSecond) / 1_000),
  sendToDeadLetter: (body, reason) => port.sendToDeadLetter(body, reason),
});

const connectDynamoDb = async (options: LocalPipelineOptions) => {
  if (options.dynamoDbEndpoint !== undefined) {
    const suffix = randomUUID().slice(0, 8);
    const tables = options.tables ?? { runs: `runs-${suffix}`, tasks: `tasks-${suffix}` };

    return { endpoint: options.dynamoDbEndpoint, tables, instance: undefined };
  }

  const instance = await startDynamoDbLocal({
    port: options.dynamoDbPort,
    dataDir: options.dataDir,
  });

  return { endpoint: instance.endpoint, tables: options.tables ?? DEFAULT_TABLE_NAMES, instance };
};

/** Starts every part of the local pipeline and resolves once it is polling. */
export const startLocalPipeline = async (
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> => {
  const settings = resolveSettings(options);
  const logger = options.logger ?? silentLogger;
  const resultsDir = options.resultsDir ?? (await mkdtemp(join(tmpdir(), 'conveyor-results-')));

  const { endpoint, tables, instance } = await connectDynamoDb(options);
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  try {
    await createTables(client, tables);
  } catch (error) {
    client.destroy();
    await instance?.stop();
    throw error;
  }

  return assemblePipeline({
    options,
    settings,
    logger,
    resultsDir,
    endpoint,
    tables,
    instance,
    client,
  });
};

interface Assembly {
  readonly options: LocalPipelineOptions;
  readonly settings: ResolvedSettings;
  readonly logger: DomainLogger;
  readonly resultsDir: string;
  readonly endpoint: string;
  readonly tables: TableNames;
  readonly instance: DynamoDbLocalInstance | undefined;
  readonly client: DynamoDBClient;
}

const assemblePipeline = async (assembly: Assembly): Promise<LocalPipeline> => {
  const { options, settings, logger, tables, client } = assembly;
  const documentClient = documentClientFor(client);
  const metrics = new InMemoryMetrics();
  const completedEvents: RunCompletedDetail[] = [];

  const deadLetterQueue = new LocalQueue({
    name: 'conveyor-dead-letter',
    visibilityTimeoutSeconds: settings.visibilityTimeoutMs / 1_000,
    seed: settings.seed + 1,
  });
  const taskQueue = new LocalQueue({
    name: 'conveyor-tasks',
    visibilityTimeoutSeconds: settings.visibilityTimeoutMs / 1_000,
    redrivePolicy: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    duplicateRate: settings.duplicateRate,
    seed: settings.seed,
  });
  const queuePort = scaledQueuePort(
    messageQueuePort(taskQueue, deadLetterQueue),
    settings.msPerSecond,
  );
  const results = new FileResultStore(assembly.resultsDir);
  const shared = { documentClient, tables, clock: systemClock, logger, metrics };

  const workerDeps: WorkerDeps = {
    ...shared,
    queue: queuePort,
    results,
    fetchPage: options.fetchPage ?? createGateway({ allowedAddresses: ['127.0.0.1/32'] }),
    settings: settings.workerSettings,
  };
  const createWorker = options.createWorker ?? createWorkerHandler;
  const worker = new SqsEventSource({
    queue: taskQueue,
    handler: createWorker(options.wrapWorkerDeps?.(workerDeps) ?? workerDeps),
    functionName: 'conveyor-local-worker',
    batchSize: settings.batchSize,
    maximumConcurrency: settings.maximumConcurrency,
    invocationTimeoutMs: settings.invocationTimeoutMs,
    logger,
  });

  const deadLetterDeps: DeadLetterDeps = {
    ...shared,
    queue: queuePort,
    archive: results,
    leaseMarginMs: settings.workerSettings.leaseMarginMs,
  };
  const deadLetter = new SqsEventSource({
    queue: deadLetterQueue,
    handler: createDeadLetterHandler(
      options.wrapDeadLetterDeps?.(deadLetterDeps) ?? deadLetterDeps,
    ),
    functionName: 'conveyor-local-dead-letter',
    batchSize: settings.batchSize,
    maximumConcurrency: 2,
    invocationTimeoutMs: settings.invocationTimeoutMs,
    logger,
  });

  const finalizerDeps: FinalizerDeps = {
    ...shared,
    events: { publishRunCompleted: async (detail) => void completedEvents.push(detail) },
  };
  const finalizer = await startRunsStreamFinalizer({
    client,
    endpoint: assembly.endpoint,
    tables,
    handler: createFinalizerHandler(options.wrapFinalizerDeps?.(finalizerDeps) ?? finalizerDeps),
    logger,
  });

  worker.start();
  deadLetter.start();

  return new RunningPipeline({
    ...assembly,
    documentClient,
    metrics,
    completedEvents,
    taskQueue,
    deadLetterQueue,
    worker,
    deadLetter,
    finalizer,
  });
};

interface RunningParts extends Assembly {
  readonly documentClient: DynamoDBDocumentClient;
  readonly metrics: InMemoryMetrics;
  readonly completedEvents: RunCompletedDetail[];
  readonly taskQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue;
  readonly worker: SqsEventSource;
  readonly deadLetter: SqsEventSource;
  readonly finalizer: RunsStreamFinalizer;
}

class RunningPipeline implements LocalPipeline {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly taskQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue;
  readonly metrics: InMemoryMetrics;
  readonly completedEvents: readonly RunCompletedDetail[];
  readonly dynamoDbEndpoint: string;
  readonly resultsDir: string;

  private stopping: Promise<void> | undefined;

  constructor(private readonly parts: RunningParts) {
    this.documentClient = parts.documentClient;
    this.tables = parts.tables;
    this.taskQueue = parts.taskQueue;
    this.deadLetterQueue = parts.deadLetterQueue;
    this.metrics = parts.metrics;
    this.completedEvents = parts.completedEvents;
    this.dynamoDbEndpoint = parts.endpoint;
    this.resultsDir = parts.resultsDir;
  }

  async submit(
    runId: string,
    inputs: readonly TaskInput[] | (() => AsyncIterable<TaskInput>),
  ): Promise<SubmitRunSummary> {
    const source = typeof inputs === 'function' ? inputs : () => iterate(inputs);
    const total = typeof inputs === 'function' ? await countOf(inputs()) : inputs.length;

    return submitRun(
      {
        documentClient: this.documentClient,
        tables: this.tables,
        sender: taskSenderPort(this.taskQueue),
        logger: this.parts.logger,
      },
      { runId, source, total },
    );
  }

  async waitForRun(runId: string, options: WaitForRunOptions = {}): Promise<RunProgress> {
    const timeoutMs = options.timeoutMs ?? LOCAL_PIPELINE_DEFAULTS.waitTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const progress = await readProgress(this, runId);
      options.onProgress?.(progress);
      if (progress.meta?.status === RUN_STATUS.completed) return progress;
      if (Date.now() >= deadline) throw new RunWaitTimeoutError(runId, timeoutMs, progress);

      await sleep(LOCAL_PIPELINE_DEFAULTS.progressPollMs);
    }
  }

  stats(): LocalPipelineStats {
    return { worker: this.parts.worker.stats(), deadLetter: this.parts.deadLetter.stats() };
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopParts();

    return this.stopping;
  }

  private async stopParts(): Promise<void> {
    const timeoutMs = LOCAL_PIPELINE_DEFAULTS.stopTimeoutMs;
    await Promise.all([this.parts.worker.stop(timeoutMs), this.parts.deadLetter.stop(timeoutMs)]);
    await this.parts.finalizer.stop();
    this.parts.client.destroy();
    await this.parts.instance?.stop();
  }
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

const countOf = async (items: AsyncIterable<unknown>): Promise<number> => {
  let count = 0;
  const iterator = items[Symbol.asyncIterator]();
  while (!(await iterator.next()).done) count += 1;

  return count;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
