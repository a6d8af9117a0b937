/**
 * The benchmark: the same workloads through conveyor and each baseline
 * protocol on one DynamoDB Local, plus the worker bundle's size and load time
 * and submission's peak memory on a million URLs.
 *
 *   npm run bench -- [--tasks 5000] [--latency-tasks 1000] [--latency-ms 50]
 *     [--concurrency 16] [--protocols conveyor,naive,two-step,powertools]
 *     [--duplicate-rate 0.02] [--submit-urls 1000000] [--warmup-tasks 200]
 *
 * Prints a markdown report and writes bench/results/bench.md and bench.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConveyorError } from '../lambdas/domain/errors';
import { documentClientFor } from '../lambdas/handlers/aws-clients';
import { LOCAL_AWS, startDynamoDbLocal } from '../local/dynamodb-local';
import { PROTOCOL_NAMES, type ProtocolName } from '../local/sim/harness';
import { buildReport, renderMarkdown, type MachineInfo } from './report';
import { measureSubmitMemory, type SubmitMemoryMeasurement } from './submit-peak';
import { startBenchTarget, type BenchTarget } from './target';
import { measureWorkerBundle } from './worker-bundle';
import { runProtocol, type BenchDatabase, type ProtocolRun, type Workload } from './workload';

/** Defaults sized so `npm run bench` finishes in a few minutes on two cores. */
export const BENCH_DEFAULTS = {
  tasks: 5_000,
  latencyTasks: 1_000,
  latencyMs: 50,
  concurrency: 16,
  duplicateRate: 0.02,
  submitUrls: 1_000_000,
  warmupTasks: 200,
  seed: 7,
} as const;

const RESULTS_DIR = resolve(__dirname, 'results');

/** A command-line setting is out of range. */
export class BenchSettingError extends ConveyorError {
  override readonly name = 'BenchSettingError';

  constructor(
    readonly setting: string,
    readonly rule: string,
    readonly received: string,
  ) {
    super(`--${setting} must be ${rule}; received "${received}"`);
  }
}

export interface BenchSettings {
  readonly tasks: number;
  readonly latencyTasks: number;
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly duplicateRate: number;
  readonly submitUrls: number;
  readonly warmupTasks: number;
  readonly protocols: readonly ProtocolName[];
}

const integerSetting = (name: string, raw: string | undefined, fallback: number, min: number) => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new BenchSettingError(name, `an integer of at least ${min}`, raw);
  }

  return value;
};

const protocolsSetting = (raw: string | undefined): ProtocolName[] => {
  if (raw === undefined) return [...PROTOCOL_NAMES];
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(PROTOCOL_NAMES as readonly string[]).includes(name)) {
      throw new BenchSettingError('protocols', `a list of ${PROTOCOL_NAMES.join(', ')}`, raw);
    }
  }

  return names as ProtocolName[];
};

/** Reads the command line. */
export const parseBenchSettings = (args: readonly string[]): BenchSettings => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      tasks: { type: 'string' },
      'latency-tasks': { type: 'string' },
      'latency-ms': { type: 'string' },
      concurrency: { type: 'string' },
      protocols: { type: 'string' },
      'duplicate-rate': { type: 'string' },
      'submit-urls': { type: 'string' },
      'warmup-tasks': { type: 'string' },
    },
    strict: true,
  });
  const rawRate = values['duplicate-rate'];
  const duplicateRate = rawRate === undefined ? BENCH_DEFAULTS.duplicateRate : Number(rawRate);
  if (!(duplicateRate >= 0 && duplicateRate <= 1)) {
    throw new BenchSettingError('duplicate-rate', 'a number from 0 to 1', String(rawRate));
  }

  return {
    tasks: integerSetting('tasks', values.tasks, BENCH_DEFAULTS.tasks, 1),
    latencyTasks: integerSetting(
      'latency-tasks',
      values['latency-tasks'],
      BENCH_DEFAULTS.latencyTasks,
      0,
    ),
    latencyMs: integerSetting('latency-ms', values['latency-ms'], BENCH_DEFAULTS.latencyMs, 0),
    concurrency: integerSetting('concurrency', values.concurrency, BENCH_DEFAULTS.concurrency, 1),
    duplicateRate,
    submitUrls: integerSetting('submit-urls', values['submit-urls'], BENCH_DEFAULTS.submitUrls, 0),
    warmupTasks: integerSetting(
      'warmup-tasks',
      values['warmup-tasks'],
      BENCH_DEFAULTS.warmupTasks,
      0,
    ),
    protocols: protocolsSetting(values.protocols),
  };
};

/** The workloads the settings ask for: the instant target, then the one with latency. */
export const workloadsFor = (settings: BenchSettings): Workload[] => {
  const shared = {
    concurrency: settings.concurrency,
    duplicateRate: settings.duplicateRate,
    seed: BENCH_DEFAULTS.seed,
  };
  const instant = { name: 'instant', tasks: settings.tasks, latencyMs: 0, ...shared };
  const slow = {
    name: `latency-${settings.latencyMs}ms`,
    tasks: settings.latencyTasks,
    latencyMs: settings.latencyMs,
    ...shared,
  };

  return settings.latencyTasks > 0 ? [instant, slow] : [instant];
};

const machineInfo = (loadAverageAtStart: readonly number[]): MachineInfo => ({
  date: new Date().toISOString(),
  cores: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  node: process.version,
  platform: `${platform()} ${release()}`,
  loadAverageAtStart,
  loadAverageAtEnd: loadavg(),
});

const progress = (message: string) => process.stderr.write(`${message}\n`);

/**
 * Runs one protocol on one workload on a DynamoDB Local of its own, after an
 * unreported warm-up of the same protocol: DynamoDB Local slows down as it
 * accumulates runs, so sharing one would favour whichever protocol ran first.
 */
const runOnFreshDatabase = async (
  protocol: ProtocolName,
  workload: Workload,
  warmupTasks: number,
  target: BenchTarget,
): Promise<ProtocolRun> => {
  const instance = await startDynamoDbLocal();
  const client = new DynamoDBClient({ endpoint: instance.endpoint, ...LOCAL_AWS });
  const database: BenchDatabase = {
    endpoint: instance.endpoint,
    client,
    documentClient: documentClientFor(client),
  };
  try {
    if (warmupTasks > 0) {
      await runProtocol(
        database,
        protocol,
        { ...workload, name: 'warmup', tasks: warmupTasks },
        target,
      );
    }

    return await runProtocol(database, protocol, workload, target);
  } finally {
    client.destroy();
    await instance.stop();
  }
};

const runProtocols = async (settings: BenchSettings, workloads: readonly Workload[]) => {
  const target = await startBenchTarget();
  const runs: ProtocolRun[] = [];
  try {
    for (const workload of workloads) {
      for (const protocol of settings.protocols) {
        progress(
          `${workload.name}: ${protocol}, ${workload.tasks} tasks ` +
            `(after ${settings.warmupTasks} warm-up tasks on a fresh DynamoDB Local)`,
        );
        const run = await runOnFreshDatabase(protocol, workload, settings.warmupTasks, target);
        progress(
          `  ${run.tasksPerSecond.toFixed(1)} tasks/s, ${run.dynamoDb.requestCount} requests`,
        );
        runs.push(run);
      }
    }
  } finally {
    await target.close();
  }

  return runs;
};

const main = async () => {
  const settings = parseBenchSettings(process.argv.slice(2));
  const loadAverageAtStart = loadavg();
  const workloads = workloadsFor(settings);

  const runs = await runProtocols(settings, workloads);
  progress('worker bundle: esbuild, then 5 fresh `require`s');
  const workerBundle = await measureWorkerBundle();
  let submitMemory: SubmitMemoryMeasurement | undefined;
  if (settings.submitUrls > 0) {
    progress(`submit memory: ${settings.submitUrls} URLs`);
    submitMemory = await measureSubmitMemory(settings.submitUrls);
  }

  const report = buildReport({
    machine: machineInfo(loadAverageAtStart),
    workloads,
    runs,
    workerBundle,
    submitMemory,
  });
  const markdown = renderMarkdown(report);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'bench.md'), markdown);
  await writeFile(join(RESULTS_DIR, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(markdown);
  progress(`written: ${join(RESULTS_DIR, 'bench.md')}, ${join(RESULTS_DIR, 'bench.json')}`);
};

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    process.exitCode = 1;
  });
}
