/**
 * Runs one workload through one protocol on the local pipeline (DynamoDB
 * Local, the local SQS emulation, conveyor's dead-letter handler and
 * finalizer) and measures what the protocol's worker cost: its DynamoDB
 * requests and derived capacity, its target calls, and the run's throughput.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runPartitionItems } from '../lambdas/domain/run-items';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { TaskInput } from '../cli/input';
import { ConveyorError } from '../lambdas/domain/errors';
import type { FetchPage, TableNames } from '../lambdas/domain/ports';
import { createGateway } from '../lambdas/gateway';
import { readProgress } from '../lambdas/domain/progress';
import { RUNS_TABLE, TASKS_TABLE, type RunCounters } from '../lambdas/domain/schema';
import type { WorkerDeps } from '../lambdas/domain/worker';
import { documentClientFor } from '../lambdas/handlers/aws-clients';
import { createWorkerHandler } from '../lambdas/handlers/worker';
import { LOCAL_AWS } from '../local/dynamodb-local';
import { startLocalPipeline, type LocalPipeline } from '../local/pipeline';
import type { ProtocolName, WorkerFactory } from '../local/sim/harness';
import { createNaiveWorker } from './baselines/naive';
import { createIdempotencyTable, createPowertoolsWorker } from './baselines/powertools';
import { createTwoStepWorker } from './baselines/two-step';
import { DynamoDbMeter, type MeteredCost } from './meter';
import type { BenchTarget } from './target';

/** Pipeline timing for the benchmark: short enough that deferred duplicates come back quickly. */
export const BENCH_PIPELINE = {
  /** One message per invocation: `concurrency` workers each work on one task at a time. */
  batchSize: 1,
  /** The worker's "Lambda timeout". */
  invocationTimeoutMs: 5_000,
  /** Twice the invocation timeout (AWS advises six; shorter so turned-away duplicates return soon). */
  visibilityTimeoutMs: 10_000,
  /** Added to the remaining invocation time to form conveyor's lease. */
  leaseMarginMs: 1_000,
  /** How often the run's counters are read while waiting. */
  progressPollMs: 50,
  /** How long a run may take before the benchmark gives up. */
  runTimeoutMs: 10 * 60_000,
  /** How long to keep metering after the run completed, for duplicates still queued. */
  drainTimeoutMs: 15_000,
  drainPollMs: 100,
} as const;

const IDEMPOTENCY_KEY = ['id'] as const;

/** A workload: how many tasks, how the target answers, how many workers, how many duplicates. */
export interface Workload {
  readonly name: string;
  readonly tasks: number;
  /** The target's answer latency. */
  readonly latencyMs: number;
  /** Worker invocations in flight at once. */
  readonly concurrency: number;
  /** Share of SQS receives (0–1) that also leave a duplicate copy visible. */
  readonly duplicateRate: number;
  /** Seed of the queue's duplicate injection. */
  readonly seed: number;
}

/** What one protocol cost on one workload. */
export interface ProtocolRun {
  readonly protocol: ProtocolName;
  readonly workload: string;
  readonly tasks: number;
  /** From the start of submission until the counters reached the total. */
  readonly wallMs: number;
  readonly tasksPerSecond: number;
  readonly dynamoDb: MeteredCost;
  readonly targetCalls: number;
  /** Messages SQS handed to the worker, duplicates and redeliveries included. */
  readonly deliveries: number;
  readonly duplicatesInjected: number;
  /** Worker invocations the event source gave up on at the invocation timeout (a sign of overload). */
  readonly workerTimeouts: number;
  /** Task messages still queued when metering stopped (after the drain bound). */
  readonly undrainedMessages: number;
  readonly counters: RunCounters;
  /** Failed target calls by error name (timeouts under load show here). */
  readonly fetchFailures: Readonly<Record<string, number>>;
}

/** A run did not reach its total within the bound. */
export class BenchRunTimeoutError extends ConveyorError {
  override readonly name = 'BenchRunTimeoutError';

  constructor(
    readonly protocol: ProtocolName,
    readonly workload: string,
    readonly counters: RunCounters,
  ) {
    super(
      `The ${protocol} run of the ${workload} workload did not complete within ` +
        `${BENCH_PIPELINE.runTimeoutMs} ms (completed ${counters.completed} of ${counters.total})`,
    );
  }
}

/** The shared DynamoDB Local the protocol runs use. */
export interface BenchDatabase {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Unmetered, for reading progress and the final items. */
  readonly documentClient: DynamoDBDocumentClient;
}

const workerFactoryFor = async (
  protocol: ProtocolName,
  database: BenchDatabase,
): Promise<{ factory: WorkerFactory; idempotencyTable?: string }> => {
  switch (protocol) {
    case 'conveyor':
      return { factory: createWorkerHandler };
    case 'naive':
      return { factory: createNaiveWorker };
    case 'two-step':
      return { factory: createTwoStepWorker };
    case 'powertools': {
      const idempotencyTable = `bench-idempotency-${randomUUID().slice(0, 8)}`;
      await createIdempotencyTable(database.client, idempotencyTable);

      return { factory: createPowertoolsWorker(idempotencyTable), idempotencyTable };
    }
  }
};

const inputsFor = (target: BenchTarget, tasks: number): TaskInput[] =>
  Array.from({ length: tasks }, (_, index) => ({
    url: `${target.origin}/page/${index}`,
    line: index + 1,
  }));

/** The fetch with every failure counted by error name. */
const countingFailures =
  (fetchPage: FetchPage, failures: Map<string, number>): FetchPage =>
  async (url, options) => {
    try {
      return await fetchPage(url, options);
    } catch (error) {
      const name = (error as Error).name ?? 'unknown';
      failures.set(name, (failures.get(name) ?? 0) + 1);
      throw error;
    }
  };

/** A document client for the worker whose every request goes through the meter. */
const meteredWorkerDeps = (
  deps: WorkerDeps,
  database: BenchDatabase,
  meter: DynamoDbMeter,
  maxSockets: number,
): WorkerDeps => {
  // Enough sockets for every record in flight: on Lambda each invocation has its own client.
  const client = new DynamoDBClient({
    endpoint: database.endpoint,
    ...LOCAL_AWS,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets }) },
  });
  meter.attachTo(client);

  return { ...deps, documentClient: documentClientFor(client) };
};

const keySchemasFor = (tables: TableNames, idempotencyTable: string | undefined) => ({
  [tables.tasks]: [TASKS_TABLE.partitionKey, TASKS_TABLE.sortKey],
  [tables.runs]: [RUNS_TABLE.partitionKey, RUNS_TABLE.sortKey],
  ...(idempotencyTable && { [idempotencyTable]: IDEMPOTENCY_KEY }),
});

/** Runs `workload` through `protocol` and returns what it cost. */
export const runProtocol = async (
  database: BenchDatabase,
  protocol: ProtocolName,
  workload: Workload,
  target: BenchTarget,
): Promise<ProtocolRun> => {
  const { factory, idempotencyTable } = await workerFactoryFor(protocol, database);
  const suffix = randomUUID().slice(0, 8);
  const tables = { runs: `bench-runs-${suffix}`, tasks: `bench-tasks-${suffix}` };
  const meter = new DynamoDbMeter(keySchemasFor(tables, idempotencyTable));
  const resultsDir = await mkdtemp(join(tmpdir(), 'conveyor-bench-results-'));
  target.setLatencyMs(workload.latencyMs);
  target.resetRequests();

  const fetchFailures = new Map<string, number>();
  const pipeline = await startLocalPipeline({
    fetchPage: countingFailures(
      createGateway({ allowedAddresses: ['127.0.0.1/32'] }),
      fetchFailures,
    ),
    dynamoDbEndpoint: database.endpoint,
    tables,
    resultsDir,
    createWorker: factory,
    wrapWorkerDeps: (deps) =>
      meteredWorkerDeps(deps, database, meter, workload.concurrency * BENCH_PIPELINE.batchSize),
    maximumConcurrency: workload.concurrency,
    batchSize: BENCH_PIPELINE.batchSize,
    invocationTimeoutMs: BENCH_PIPELINE.invocationTimeoutMs,
    visibilityTimeoutMs: BENCH_PIPELINE.visibilityTimeoutMs,
    workerSettings: { leaseMarginMs: BENCH_PIPELINE.leaseMarginMs },
    duplicateRate: workload.duplicateRate,
    seed: workload.seed,
  });

  try {
    const measured = await measureRun({
      database,
      pipeline,
      protocol,
      workload,
      target,
      meter,
      idempotencyTable,
    });

    return { ...measured, fetchFailures: Object.fromEntries(fetchFailures) };
  } finally {
    await pipeline.stop();
    await rm(resultsDir, { recursive: true, force: true });
    await deleteTables(database, [tables.tasks, tables.runs, idempotencyTable]);
  }
};

/** Drops a finished run's tables, so DynamoDB Local does not slow down as the benchmark goes on. */
const deleteTables = async (database: BenchDatabase, names: readonly (string | undefined)[]) => {
  for (const name of names) {
    if (name) await database.client.send(new DeleteTableCommand({ TableName: name }));
  }
};

interface MeasuredRun {
  readonly database: BenchDatabase;
  readonly pipeline: LocalPipeline;
  readonly protocol: ProtocolName;
  readonly workload: Workload;
  readonly target: BenchTarget;
  readonly meter: DynamoDbMeter;
  readonly idempotencyTable: string | undefined;
}

const measureRun = async (run: MeasuredRun): Promise<Omit<ProtocolRun, 'fetchFailures'>> => {
  const { pipeline, workload } = run;
  const runId = `bench-${run.protocol}-${workload.name}`;

  const startedAt = performance.now();
  await pipeline.submit(runId, inputsFor(run.target, workload.tasks));
  await waitForTotal(run, runId);
  const wallMs = performance.now() - startedAt;

  const undrainedMessages = await drainTaskQueue(pipeline);
  const targetCalls = run.target.requests();
  const queueStats = pipeline.taskQueue.stats();
  const workerTimeouts = pipeline.stats().worker.timeouts;
  await pipeline.stop();
  await observeFinalItems(run, runId);
  const { counters } = await readProgress(progressDeps(run), runId);

  return {
    protocol: run.protocol,
    workload: workload.name,
    tasks: workload.tasks,
    wallMs,
    tasksPerSecond: workload.tasks / (wallMs / 1_000),
    dynamoDb: run.meter.cost(),
    targetCalls,
    deliveries: queueStats.deliveries,
    duplicatesInjected: queueStats.duplicatesInjected,
    workerTimeouts,
    undrainedMessages,
    counters,
  };
};

const progressDeps = (run: MeasuredRun) => ({
  documentClient: run.database.documentClient,
  tables: run.pipeline.tables,
});

const waitForTotal = async (run: MeasuredRun, runId: string) => {
  const deadline = Date.now() + BENCH_PIPELINE.runTimeoutMs;
  for (;;) {
    const { counters } = await readProgress(progressDeps(run), runId);
    if (counters.total > 0 && counters.completed >= counters.total) return;
    if (Date.now() >= deadline) {
      throw new BenchRunTimeoutError(run.protocol, run.workload.name, counters);
    }

    await sleep(BENCH_PIPELINE.progressPollMs);
  }
};

/** Waits (within a bound) until no task message is left, so late duplicates are metered too. */
const drainTaskQueue = async (pipeline: LocalPipeline): Promise<number> => {
  const deadline = Date.now() + BENCH_PIPELINE.drainTimeoutMs;
  const remaining = () => {
    const depth = pipeline.taskQueue.depth();

    return depth.visible + depth.inFlight + depth.delayed;
  };
  while (remaining() > 0 && Date.now() < deadline) await sleep(BENCH_PIPELINE.drainPollMs);

  return remaining();
};

/** Feeds the final state of every item the run touched to the meter, for the item sizes. */
const observeFinalItems = async (run: MeasuredRun, runId: string) => {
  const { documentClient } = run.database;
  const { tables } = run.pipeline;
  for (const table of [tables.tasks, tables.runs]) {
    for await (const item of runPartitionItems(documentClient, table, runId)) {
      run.meter.observe(table, marshall(item));
    }
  }
  if (run.idempotencyTable) await observeWholeTable(run, run.idempotencyTable);
};

const observeWholeTable = async (run: MeasuredRun, table: string) => {
  const pages = paginateScan({ client: run.database.documentClient }, { TableName: table });
  for await (const page of pages) {
    for (const item of page.Items ?? []) run.meter.observe(table, marshall(item));
  }
};
