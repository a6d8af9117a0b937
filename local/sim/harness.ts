/**
 * Drives one seeded scenario through the real handlers: the local SQS queue
 * emulation (with redrive to a dead-letter queue) and its Lambda event source
 * emulation, the worker (conveyor's or a baseline), conveyor's dead-letter
 * handler and finalizer, on DynamoDB Local, with the scenario's faults wrapped
 * around the dependencies. Then it turns the faults off and waits for the run
 * to finish: a run that makes no progress (no write to its tables) for longer
 * than its own timeouts allow is stuck, and so is one still unfinished at a
 * cap far beyond that. What it finds goes to the checker.
 *
 * Runs under virtual time (see virtual-time.ts): every bound here is in
 * simulated ms, and DynamoDB requests take none of them.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
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
import { DEFAULTS } from '../../lambdas/config';
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
import { collectRunPartition } from '../../lambdas/domain/run-items';
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
import { SIM_FUNCTION, withDelivery, type SimFunction } from './context';
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
  writesOf,
  type CommandLike,
} from './faults';
import { DEATH_STEP, scenarioForSeed, SIM_MS_PER_SECOND, type Scenario } from './scenario';
import { trackRequests } from './virtual-time';

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
  // One attempt per request: the protocols retry on their own, and virtual time
  // stands still while a request is in flight (see trackRequests).
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS, maxAttempts: 1 });
  trackRequests(client);
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
  /**
   * Seed `Math.random` (the back-off jitter of the protocols) from the
   * scenario's seed. Only exact when one scenario runs at a time.
   * @default false
   */
  readonly seedMathRandom?: boolean;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly protocol: ProtocolName;
  readonly violations: readonly Violation[];
  readonly taskCount: number;
  readonly targetCalls: number;
  readonly deaths: number;
  readonly faultsInjected: number;
  /** Real time the scenario took. */
  readonly durationMs: number;
  /** Simulated time the scenario covered. */
  readonly simulatedMs: number;
  /** What happened during the scenario, line by line. */
  readonly trace: readonly string[];
}

const SIM_INVOCATION_SETTINGS = { maxAttempts: 3, leaseMarginMs: 50, settleReserveMs: 50 };
const POLL_WAIT_MS = 20;
const CHECK_INTERVAL_MS = 20;
/** How long a change takes to reach the finalizer through the runs table's stream. */
const STREAM_DELAY_MS = 10;
/** How long the stream waits before retrying a failed or timed-out finalizer invocation. */
const STREAM_RETRY_MS = 100;
const FINALIZER_TIMEOUT_MS = 400;
/** Cycles of a scenario with faults on (see scenarioTimings). */
const FAULT_WINDOW_CYCLES = 3;
/** Cycles without progress, beyond the receives a message may take, after which a run is stuck. */
const STALL_EXTRA_CYCLES = 2;
/** Stall bounds after which even a run that keeps making progress is called not live. */
const LIVENESS_CAP_STALLS = 20;

/** The phases of a scenario, in simulated ms, derived from its own timeouts. */
export interface ScenarioTimings {
  /**
   * The longest a message can legitimately go without progress: its
   * visibility timeout, an invocation that dies at its timeout, the lease that
   * outlives it, and the longest hiding (back-off or lease deferral).
   */
  readonly cycleMs: number;
  /** How long faults stay on at most. */
  readonly faultWindowMs: number;
  /** No write to the run's tables for this long, with faults off: the run is stuck. */
  readonly stallMs: number;
  /** A run still unfinished this long after the faults stopped is not live. */
  readonly livenessCapMs: number;
}

export const scenarioTimings = (scenario: Scenario): ScenarioTimings => {
  const longestBackoffSeconds = Math.min(
    DEFAULTS.retryMaxDelaySeconds,
    DEFAULTS.retryBaseDelaySeconds * 2 ** (SIM_INVOCATION_SETTINGS.maxAttempts - 1),
  );
  const longestDeferralSeconds =
    Math.ceil((scenario.invocationTimeoutMs + SIM_INVOCATION_SETTINGS.leaseMarginMs) / 1000) +
    DEFAULTS.leaseDeferralSlackSeconds;
  const longestHideMs = Math.max(longestBackoffSeconds, longestDeferralSeconds) * SIM_MS_PER_SECOND;
  const cycleMs =
    scenario.visibilityTimeoutSeconds * 1000 +
    scenario.invocationTimeoutMs +
    SIM_INVOCATION_SETTINGS.leaseMarginMs +
    longestHideMs;
  const stallMs = (scenario.maxReceiveCount + STALL_EXTRA_CYCLES) * cycleMs;

  return {
    cycleMs,
    faultWindowMs: FAULT_WINDOW_CYCLES * cycleMs,
    stallMs,
    livenessCapMs: LIVENESS_CAP_STALLS * stallMs,
  };
};

const noMetrics = (): MetricSink => ({
  count: () => undefined,
  milliseconds: () => undefined,
});

/** A sleep on the global timers, so it follows virtual time (the protocol's default does not). */
const timerSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  const now = new Date(Date.now()).toISOString();
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

/** Waits until `condition` holds (true) or `give up` says so (false). */
const waitUntil = async (condition: () => boolean, giveUp: () => boolean) => {
  while (!condition()) {
    if (giveUp()) return false;
    await sleep(CHECK_INTERVAL_MS);
  }

  return true;
};

/** The task id a message body names, or the body itself when it names none. */
const taskIdOf = (event: SQSEvent): string => {
  const body = event.Records[0]?.body ?? '';
  try {
    return String(JSON.parse(body).taskId);
  } catch {
    return body;
  }
};

/**
 * Wraps a function so each invocation knows its task, delivery and deadline,
 * and (the worker) may die before the event source acknowledges.
 */
const instrumented = (
  fn: SimFunction,
  handler: ReturnType<WorkerFactory>,
  log: FaultLog,
  plans: ReturnType<typeof planLookup>,
) => {
  const deliveries = new Map<string, number>();

  return (event: SQSEvent, context: Context) => {
    const taskId = taskIdOf(event);
    const delivery = (deliveries.get(taskId) ?? 0) + 1;
    deliveries.set(taskId, delivery);
    const deadline = Date.now() + context.getRemainingTimeInMillis();
    const receiveCount = event.Records[0]?.attributes.ApproximateReceiveCount;

    return withDelivery({ fn, taskId, delivery, deadline }, async () => {
      log.note(`delivered (receive ${receiveCount})`);
      const response = await handler(event, context);
      log.note(`returned ${JSON.stringify(response)}`);

      return dieIfPlanned(log, plans, DEATH_STEP.beforeAcknowledge, response);
    });
  };
};

/**
 * The runs table's stream as the finalizer sees it: every applied change
 * brings an invocation (changes that arrive while one runs are coalesced
 * into the next), and a failed or timed-out invocation is retried.
 */
class RunsStream {
  private dirty = false;
  private busy = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private invoke: () => Promise<boolean> = async () => true;

  /** Sets the function the stream invokes; true when the invocation succeeded. */
  connect(invoke: () => Promise<boolean>) {
    this.invoke = invoke;
  }

  changed() {
    this.dirty = true;
    this.schedule(STREAM_DELAY_MS);
  }

  get idle(): boolean {
    return !this.dirty && !this.busy;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number) {
    if (this.busy || this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.deliver();
    }, delayMs);
  }

  private async deliver() {
    if (!this.dirty || this.stopped) return;
    this.dirty = false;
    this.busy = true;
    const succeeded = await this.invoke();
    this.busy = false;
    if (!succeeded) this.dirty = true;
    if (this.dirty) this.schedule(succeeded ? STREAM_DELAY_MS : STREAM_RETRY_MS);
  }
}

const finalizerInvoker = (deps: FinalizerDeps, runId: string, log: FaultLog) => {
  const handler = createFinalizerHandler(deps);
  const event = {
    Records: [{ dynamodb: { Keys: { runId: { S: runId }, sk: { S: RUN_META_SK } } } }],
  } as unknown as DynamoDBStreamEvent;

  return async () => {
    const context = createLambdaContext({
      functionName: 'sim-finalizer',
      timeoutMs: FINALIZER_TIMEOUT_MS,
    });
    const outcome = await invokeWithTimeout(handler, event, context, FINALIZER_TIMEOUT_MS);
    log.note(`finalizer ${outcome.kind}`);

    return outcome.kind === 'returned';
  };
};

/** The counters a progress query of the runs table returned, for the checker's samples. */
const countersFromQuery = (response: unknown): RunCounters | undefined => {
  const items = (response as { Items?: Record<string, unknown>[] } | undefined)?.Items;
  const meta = items?.find((item) => item.sk === RUN_META_SK);
  if (!items || !meta) return undefined;

  return items
    .filter((item) => isCounterShardSk(item.sk))
    .reduce<RunCounters>(
      (sum, item) => ({
        total: sum.total,
        completed: sum.completed + Number(item.completed ?? 0),
        successful: sum.successful + Number(item.successful ?? 0),
        failed: sum.failed + Number(item.failed ?? 0),
      }),
      { total: Number(meta.total ?? 0), completed: 0, successful: 0, failed: 0 },
    );
};

const isWriteCommand = (command: { readonly constructor: { readonly name: string } }) =>
  ['UpdateCommand', 'PutCommand', 'TransactWriteCommand', 'DeleteCommand'].includes(
    command.constructor.name,
  );

/** Runs one scenario of `seed` against `protocol` and checks it. */
export const runScenario = async (
  environment: SimulationEnvironment,
  protocol: ProtocolName,
  seed: number,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> => {
  const startedAt = performance.now();
  const simulatedStart = Date.now();
  const scenario = scenarioForSeed(seed);
  const timings = scenarioTimings(scenario);
  if (options.seedMathRandom) Math.random = seededRandom(seed ^ 0x5bd1e995);
  const runId = `sim-${protocol}-${seed}-${randomUUID().slice(0, 6)}`;
  const taskIds = await seedRun(environment, runId, scenario);
  const log = new FaultLog(seed);
  const plans = planLookup(scenario, taskIds);
  const results = new MemoryResults();
  const events: RunCompletedDetail[] = [];
  const samples: RunCounters[] = [];
  let lastProgressAt = Date.now();
  const stream = new RunsStream();
  const onApplied = (command: CommandLike, response: unknown) => {
    const tableNames = writesOf(command).map((write) => write.TableName);
    if (isWriteCommand(command)) lastProgressAt = Date.now();
    if (tableNames.includes(environment.tables.runs)) stream.changed();
    const counters = command.constructor.name === 'QueryCommand' && countersFromQuery(response);
    if (counters) samples.push(counters);
  };

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
    onApplied,
  });

  const workerDeps: WorkerDeps = {
    documentClient,
    tables: environment.tables,
    queue: faultyMessageQueue(queuePort, scenario, log),
    results: faultyResultStore(results, plans, log),
    fetchPage: faultyFetch({
      scenario,
      plans,
      log,
      slowMs: Math.min(
        scenario.visibilityTimeoutSeconds * 1000 + 50,
        scenario.invocationTimeoutMs - 150,
      ),
    }),
    clock: Date.now,
    logger: silentLogger,
    metrics: noMetrics(),
    settings: SIM_INVOCATION_SETTINGS,
    sleep: timerSleep,
  };
  const deadLetterDeps: DeadLetterDeps = {
    documentClient,
    tables: environment.tables,
    queue: queuePort,
    archive: results,
    clock: Date.now,
    logger: silentLogger,
    metrics: noMetrics(),
    leaseMarginMs: SIM_INVOCATION_SETTINGS.leaseMarginMs,
    sleep: timerSleep,
  };
  const finalizerDeps: FinalizerDeps = {
    documentClient: dyingFinalizerClient(environment.documentClient, environment.tables, log, {
      dies: scenario.finalizerDies,
      onApplied,
    }),
    tables: environment.tables,
    events: { publishRunCompleted: async (detail) => void events.push(detail) },
    clock: Date.now,
    logger: silentLogger,
    metrics: noMetrics(),
  };
  stream.connect(finalizerInvoker(finalizerDeps, runId, log));

  const running = startPipeline({
    scenario,
    log,
    plans,
    taskQueue,
    deadLetterQueue,
    worker: workerFactoryFor(protocol, environment)(workerDeps),
    deadLetterHandler: createDeadLetterHandler(deadLetterDeps),
    runId,
    taskIds,
  });

  const finished = () => running.isQuiet() && stream.idle && events.length > 0;
  const faultsEndAt = Date.now() + timings.faultWindowMs;
  await waitUntil(finished, () => Date.now() >= faultsEndAt);
  log.active = false;
  log.note('faults off');
  const livenessEndsAt = Date.now() + timings.livenessCapMs;
  const stalled = () => Date.now() - lastProgressAt >= timings.stallMs;
  const live = await waitUntil(finished, () => stalled() || Date.now() >= livenessEndsAt);
  if (!live) log.note(stalled() ? `no progress for ${timings.stallMs} ms` : 'liveness cap reached');

  log.frozen = true;
  stream.stop();
  await running.stop();
  // Requests already on the wire land before the checker reads the tables.
  await waitUntil(
    () => log.requestsInFlight === 0,
    () => false,
  );
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
    durationMs: Math.round(performance.now() - startedAt),
    simulatedMs: Date.now() - simulatedStart,
    trace: log.trace,
  };
};

interface RunningScenario {
  readonly stop: () => Promise<void>;
  readonly isQuiet: () => boolean;
}

interface PipelineParts {
  readonly scenario: Scenario;
  readonly log: FaultLog;
  readonly plans: ReturnType<typeof planLookup>;
  readonly taskQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue;
  readonly worker: ReturnType<WorkerFactory>;
  readonly deadLetterHandler: ReturnType<WorkerFactory>;
  readonly runId: string;
  readonly taskIds: readonly string[];
}

const startPipeline = (parts: PipelineParts): RunningScenario => {
  const { scenario, taskQueue, deadLetterQueue, runId } = parts;
  const workerSource = new SqsEventSource({
    queue: taskQueue,
    handler: instrumented(SIM_FUNCTION.worker, parts.worker, parts.log, parts.plans),
    batchSize: 1,
    maximumConcurrency: scenario.maximumConcurrency,
    invocationTimeoutMs: scenario.invocationTimeoutMs,
    pollWaitMs: POLL_WAIT_MS,
  });
  const deadLetterSource = new SqsEventSource({
    queue: deadLetterQueue,
    handler: instrumented(SIM_FUNCTION.deadLetter, parts.deadLetterHandler, parts.log, parts.plans),
    batchSize: 1,
    maximumConcurrency: 2,
    invocationTimeoutMs: scenario.invocationTimeoutMs,
    pollWaitMs: POLL_WAIT_MS,
  });

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
      await Promise.all([workerSource.stop(50), deadLetterSource.stop(50)]);
    },
  };
};

const queryAll = (environment: SimulationEnvironment, tableName: string, runId: string) =>
  collectRunPartition(environment.documentClient, tableName, runId);

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
