/**
 * Drives one seeded scenario through the real handlers: the local SQS queue
 * emulation (with redrive to a dead-letter queue) and its Lambda event source
 * emulation, the worker (conveyor's or a baseline), conveyor's dead-letter
 * handler and finalizer, on DynamoDB Local, with the scenario's faults wrapped
 * around the dependencies. Then it turns the faults off, waits for the run to
 * finish within a bound, and hands what it finds to the checker.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { DeadLetterDeps } from '../../lambdas/domain/dead-letter';
import type { FinalizerDeps } from '../../lambdas/domain/finalizer';
import {
  silentLogger,
  type MessageQueue,
  type MetricSink,
  type RunCompletedDetail,
  type TableNames,
} from '../../lambdas/domain/ports';
import { readProgress } from '../../lambdas/domain/progress';
import {
  counterShardFor,
  isCounterShardSk,
  RUN_META_SK,
  RUN_STATUS,
  runMetaKey,
  TASK_STATUS,
  taskIdForPosition,
  type RunCounters,
  type RunStatus,
} from '../../lambdas/domain/schema';
import type { WorkerDeps } from '../../lambdas/domain/worker';
import { createDeadLetterHandler } from '../../lambdas/handlers/dead-letter';
import { createFinalizerHandler } from '../../lambdas/handlers/finalizer';
import { createWorkerHandler } from '../../lambdas/handlers/worker';
import { LOCAL_AWS } from '../dynamodb-local';
import { SqsEventSource } from '../event-source';
import { invokeWithTimeout } from '../invoke';
import { createLambdaContext } from '../lambda-context';
import { LocalQueue, messageQueuePort } from '../queue';
import { seededRandom } from '../random';
import { createTables } from '../tables';
import { createPowertoolsWorker, createIdempotencyTable } from '../../bench/baselines/powertools';
import { createNaiveWorker } from '../../bench/baselines/naive';
import { createTwoStepWorker } from '../../bench/baselines/two-step';
import { checkObservation, type ObservedShard, type ObservedTask, type Violation } from './checker';
import { withDelivery } from './context';
import {
  dieIfPlanned,
  dyingFinalizerClient,
  FaultLog,
  faultyDocumentClient,
  faultyFetch,
  faultyMessageQueue,
  faultyResultStore,
  MemoryResults,
  planLookup,
} from './faults';
import { DEATH_STEP, scenarioForSeed, SIM_MS_PER_SECOND, type Scenario } from './scenario';

/** A worker factory with the shape of the pipeline's `createWorker` option. */
export type WorkerFactory = (
  deps: WorkerDeps,
) => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The tables and clients the simulation shares between scenarios (each scenario has its own run). */
export interface SimulationEnvironment {
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly idempotencyTable: string;
}

export const PROTOCOL_NAMES = ['conveyor', 'naive', 'two-step', 'powertools'] as const;

export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** The worker each protocol name stands for. */
export const workerFactoryFor = (
  protocol: ProtocolName,
  environment: SimulationEnvironment,
): WorkerFactory => {
  switch (protocol) {
    case 'conveyor':
      return createWorkerHandler;
    case 'naive':
      return createNaiveWorker;
    case 'two-step':
      return createTwoStepWorker;
    case 'powertools':
      return createPowertoolsWorker(environment.idempotencyTable);
  }
};

/** Connects to DynamoDB Local at `endpoint` and creates fresh tables for a simulation. */
export const prepareEnvironment = async (endpoint: string): Promise<SimulationEnvironment> => {
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const suffix = randomUUID().slice(0, 8);
  const tables = { runs: `sim-runs-${suffix}`, tasks: `sim-tasks-${suffix}` };
  await createTables(client, tables);
  const idempotencyTable = `sim-idempotency-${suffix}`;
  await createIdempotencyTable(client, idempotencyTable);

  return { client, documentClient, tables, idempotencyTable };
};

export interface ScenarioOptions {
  /** How long faults stay on at most. @default 1500 */
  readonly faultWindowMs?: number;
  /** How long the run may take to finish once faults are off. @default 5000 */
  readonly livenessBoundMs?: number;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly protocol: ProtocolName;
  readonly violations: readonly Violation[];
  readonly taskCount: number;
  readonly targetCalls: number;
  readonly deaths: number;
  readonly faultsInjected: number;
  readonly durationMs: number;
}

const SIM_INVOCATION_SETTINGS = { maxAttempts: 3, leaseMarginMs: 50, settleReserveMs: 50 };
const POLL_WAIT_MS = 20;
const FINALIZER_INTERVAL_MS = 40;
const SAMPLE_INTERVAL_MS = 30;
const CHECK_INTERVAL_MS = 20;
/** Time for requests already on the wire to land once the tables are frozen. */
const QUIESCE_MS = 100;

const countingMetrics = (): MetricSink => ({
  count: () => undefined,
  milliseconds: () => undefined,
});

/** The queue port with the SQS API's seconds scaled to the simulation's time. */
const scaledQueuePort = (port: MessageQueue): MessageQueue => ({
  changeVisibility: (receiptHandle, seconds) =>
    port.changeVisibility(receiptHandle, (seconds * SIM_MS_PER_SECOND) / 1000),
  sendToDeadLetter: (body, reason) => port.sendToDeadLetter(body, reason),
});

const seedRun = async (
  environment: SimulationEnvironment,
  runId: string,
  scenario: Scenario,
): Promise<string[]> => {
  const now = new Date().toISOString();
  const taskIds = Array.from({ length: scenario.taskCount }, (_, index) =>
    taskIdForPosition(index),
  );
  for (let start = 0; start < taskIds.length; start += 25) {
    const items = taskIds.slice(start, start + 25).map((taskId) => ({
      PutRequest: {
        Item: {
          runId,
          taskId,
          url: `http://127.0.0.1/${runId}/${taskId}`,
          status: TASK_STATUS.pending,
          attempts: 0,
          counterShard: counterShardFor(taskId, scenario.shardCount),
          createdAt: now,
          updatedAt: now,
        },
      },
    }));
    let requestItems: Record<string, unknown> | undefined = { [environment.tables.tasks]: items };
    while (requestItems && Object.keys(requestItems).length > 0) {
      const response: { UnprocessedItems?: Record<string, unknown> } =
        await environment.documentClient.send(
          new BatchWriteCommand({ RequestItems: requestItems as never }),
        );
      requestItems = response.UnprocessedItems;
    }
  }
  await environment.documentClient.send(
    new PutCommand({
      TableName: environment.tables.runs,
      Item: {
        ...runMetaKey(runId),
        status: RUN_STATUS.running,
        total: scenario.taskCount,
        shardCount: scenario.shardCount,
        createdAt: now,
        updatedAt: now,
      },
    }),
  );

  return taskIds;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = async (condition: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(CHECK_INTERVAL_MS);
  }

  return false;
};

/** Wraps the worker so each invocation knows its task and delivery, and may die before the ack. */
const instrumentedWorker = (
  worker: ReturnType<WorkerFactory>,
  log: FaultLog,
  plans: ReturnType<typeof planLookup>,
) => {
  const deliveries = new Map<string, number>();

  return (event: SQSEvent, context: Context) => {
    const body = event.Records[0]?.body ?? '';
    let taskId = body;
    try {
      taskId = String(JSON.parse(body).taskId);
    } catch {
      // An unreadable body has no task; the worker itself deals with it.
    }
    const delivery = (deliveries.get(taskId) ?? 0) + 1;
    deliveries.set(taskId, delivery);

    const deadline = Date.now() + context.getRemainingTimeInMillis();

    return withDelivery({ taskId, delivery, deadline }, async () =>
      dieIfPlanned(log, plans, DEATH_STEP.beforeAcknowledge, await worker(event, context)),
    );
  };
};

interface RunningScenario {
  readonly stop: () => Promise<void>;
  readonly isQuiet: () => boolean;
}

const startFinalizerLoop = (deps: FinalizerDeps, runId: string) => {
  const handler = createFinalizerHandler(deps);
  const event = {
    Records: [{ dynamodb: { Keys: { runId: { S: runId }, sk: { S: RUN_META_SK } } } }],
  } as unknown as DynamoDBStreamEvent;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const context = createLambdaContext({ functionName: 'sim-finalizer', timeoutMs: 400 });
    void invokeWithTimeout(handler, event, context, 400).finally(() => {
      busy = false;
    });
  }, FINALIZER_INTERVAL_MS);

  return () => clearInterval(timer);
};

/** Runs one scenario of `seed` against `protocol` and checks it. */
export const runScenario = async (
  environment: SimulationEnvironment,
  protocol: ProtocolName,
  seed: number,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> => {
  const startedAt = Date.now();
  const scenario = scenarioForSeed(seed);
  const random = seededRandom(seed ^ 0x5bd1e995);
  const runId = `sim-${protocol}-${seed}-${randomUUID().slice(0, 6)}`;
  const taskIds = await seedRun(environment, runId, scenario);
  const log = new FaultLog();
  const plans = planLookup(scenario, taskIds);
  const results = new MemoryResults();
  const events: RunCompletedDetail[] = [];
  const samples: RunCounters[] = [];

  const deadLetterQueue = new LocalQueue({
    name: 'sim-dead-letters',
    visibilityTimeoutSeconds: scenario.visibilityTimeoutSeconds,
  });
  const taskQueue = new LocalQueue({
    name: 'sim-tasks',
    visibilityTimeoutSeconds: scenario.visibilityTimeoutSeconds,
    redrivePolicy: { queue: deadLetterQueue, maxReceiveCount: scenario.maxReceiveCount },
    duplicateRate: scenario.duplicateRate,
    seed,
  });
  const queuePort = scaledQueuePort(messageQueuePort(taskQueue, deadLetterQueue));
  const documentClient = faultyDocumentClient(environment.documentClient, {
    tables: environment.tables,
    scenario,
    plans,
    log,
    random,
  });

  const workerDeps: WorkerDeps = {
    documentClient,
    tables: environment.tables,
    queue: faultyMessageQueue(queuePort, scenario, log, random),
    results: faultyResultStore(results, plans, log),
    fetchPage: faultyFetch({
      scenario,
      plans,
      log,
      random,
      slowMs: Math.min(
        scenario.visibilityTimeoutSeconds * 1000 + 50,
        scenario.invocationTimeoutMs - 150,
      ),
    }),
    clock: Date.now,
    logger: silentLogger,
    metrics: countingMetrics(),
    settings: SIM_INVOCATION_SETTINGS,
  };
  const deadLetterDeps: DeadLetterDeps = {
    documentClient,
    tables: environment.tables,
    queue: queuePort,
    archive: results,
    clock: Date.now,
    logger: silentLogger,
    metrics: countingMetrics(),
    leaseMarginMs: SIM_INVOCATION_SETTINGS.leaseMarginMs,
  };
  const finalizerDeps: FinalizerDeps = {
    documentClient: scenario.finalizerDies
      ? dyingFinalizerClient(environment.documentClient, environment.tables, log)
      : environment.documentClient,
    tables: environment.tables,
    events: { publishRunCompleted: async (detail) => void events.push(detail) },
    clock: Date.now,
    logger: silentLogger,
    metrics: countingMetrics(),
  };

  const running = startPipeline({
    scenario,
    log,
    plans,
    taskQueue,
    deadLetterQueue,
    worker: workerFactoryFor(protocol, environment)(workerDeps),
    deadLetterDeps,
    finalizerDeps,
    runId,
    taskIds,
  });
  const sampler = setInterval(() => {
    void readProgress(environment, runId).then(
      (progress) => void samples.push(progress.counters),
      () => undefined,
    );
  }, SAMPLE_INTERVAL_MS);

  const finished = async () => {
    if (!running.isQuiet()) return false;
    const { meta } = await readProgress(environment, runId);

    return meta?.status === RUN_STATUS.completed;
  };
  await waitFor(finished, options.faultWindowMs ?? 1_500);
  log.active = false;
  await waitFor(finished, options.livenessBoundMs ?? 5_000);

  clearInterval(sampler);
  log.frozen = true;
  await running.stop();
  await sleep(QUIESCE_MS);
  const observation = await observe(environment, runId, taskIds);
  const violations = checkObservation({
    ...observation,
    counterSamples: [...samples, observation.finalCounters],
    resultKeys: new Set(results.objects.keys()),
    completionEvents: events,
    concurrentTargetCalls: log.concurrentTargetCalls,
  });

  return {
    seed,
    protocol,
    violations,
    taskCount: scenario.taskCount,
    targetCalls: log.totalTargetCalls,
    deaths: [...log.deaths.values()].reduce((sum, count) => sum + count, 0),
    faultsInjected: [...log.injected.values()].reduce((sum, count) => sum + count, 0),
    durationMs: Date.now() - startedAt,
  };
};

interface PipelineParts {
  readonly scenario: Scenario;
  readonly log: FaultLog;
  readonly plans: ReturnType<typeof planLookup>;
  readonly taskQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue;
  readonly worker: ReturnType<WorkerFactory>;
  readonly deadLetterDeps: DeadLetterDeps;
  readonly finalizerDeps: FinalizerDeps;
  readonly runId: string;
  readonly taskIds: readonly string[];
}

const startPipeline = (parts: PipelineParts): RunningScenario => {
  const { scenario, taskQueue, deadLetterQueue, runId } = parts;
  const workerSource = new SqsEventSource({
    queue: taskQueue,
    handler: instrumentedWorker(parts.worker, parts.log, parts.plans),
    batchSize: 1,
    maximumConcurrency: scenario.maximumConcurrency,
    invocationTimeoutMs: scenario.invocationTimeoutMs,
    pollWaitMs: POLL_WAIT_MS,
  });
  const deadLetterSource = new SqsEventSource({
    queue: deadLetterQueue,
    handler: createDeadLetterHandler(parts.deadLetterDeps),
    batchSize: 1,
    maximumConcurrency: 2,
    invocationTimeoutMs: scenario.invocationTimeoutMs,
    pollWaitMs: POLL_WAIT_MS,
  });
  const stopFinalizer = startFinalizerLoop(parts.finalizerDeps, runId);

  let pendingEnqueues = 0;
  const timers: NodeJS.Timeout[] = [];
  const send = (taskId: string) => taskQueue.sendMessage(JSON.stringify({ runId, taskId }));
  parts.taskIds.forEach((taskId, index) => {
    send(taskId);
    for (const delaySeconds of scenario.tasks[index]?.extraEnqueueDelaysSeconds ?? []) {
      pendingEnqueues += 1;
      timers.push(
        setTimeout(() => {
          send(taskId);
          pendingEnqueues -= 1;
        }, delaySeconds * SIM_MS_PER_SECOND),
      );
    }
  });
  for (let index = 0; index < scenario.unknownTaskMessages; index++) send(`unknown-${index}`);
  workerSource.start();
  deadLetterSource.start();

  return {
    isQuiet: () =>
      pendingEnqueues === 0 &&
      taskQueue.isEmpty() &&
      deadLetterQueue.isEmpty() &&
      workerSource.concurrency === 0 &&
      deadLetterSource.concurrency === 0,
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      stopFinalizer();
      await Promise.all([workerSource.stop(50), deadLetterSource.stop(50)]);
    },
  };
};

const queryAll = async (
  environment: SimulationEnvironment,
  tableName: string,
  runId: string,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await environment.documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'runId = :runId',
        ExpressionAttributeValues: { ':runId': runId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  return items;
};

const observe = async (environment: SimulationEnvironment, runId: string, taskIds: string[]) => {
  const rows = await queryAll(environment, environment.tables.tasks, runId);
  const runItems = await queryAll(environment, environment.tables.runs, runId);
  const meta = runItems.find((item) => item.sk === RUN_META_SK);
  const shards: ObservedShard[] = runItems
    .filter((item) => isCounterShardSk(item.sk))
    .map((item) => ({
      shard: Number(String(item.sk).slice('SHARD#'.length)),
      completed: Number(item.completed ?? 0),
      successful: Number(item.successful ?? 0),
      failed: Number(item.failed ?? 0),
    }));
  const tasks: ObservedTask[] = rows.map((row) => ({
    taskId: String(row.taskId),
    status: String(row.status),
    counterShard: Number(row.counterShard),
    ...(typeof row.resultKey === 'string' && { resultKey: row.resultKey }),
  }));
  const total = Number(meta?.total ?? 0);
  const finalCounters: RunCounters = shards.reduce(
    (sum, shard) => ({
      total,
      completed: sum.completed + shard.completed,
      successful: sum.successful + shard.successful,
      failed: sum.failed + shard.failed,
    }),
    { total, completed: 0, successful: 0, failed: 0 },
  );

  return {
    submittedTaskIds: taskIds,
    tasks,
    shards,
    runStatus: meta?.status as RunStatus | undefined,
    finalCounters,
  };
};
