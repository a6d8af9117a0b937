import { randomBytes } from 'node:crypto';
import { auditRun, type RunProgress } from '../../lambdas/domain/progress';
import { createGateway } from '../../lambdas/gateway';
import type { TaskInput } from '../input';
import { readTaskInputs, requireValidTaskInputs, validateTaskInputs } from '../input';
import { DEMO, demoPipelineOptions, startDemo, type DemoRun } from '../../local/demo';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline';
import { formatSummary, invariantsHold, summarizeRun, type RunSummary } from '../../local/summary';
import { InvalidOptionError } from '../errors';
import { EXIT_CODE } from '../exit-codes';
import { printJson, println, type CliIo } from '../io';
import { consoleLogger } from '../logger';
import { createProgressReporter } from '../progress';
import { ensureLocalState, localStatePaths } from '../state';

/** How long `local run` waits for a run unless told otherwise. */
export const DEFAULT_RUN_TIMEOUT_SECONDS = 600;

export interface LocalRunOptions {
  readonly demo?: boolean;
  /** Tasks of the demo. @default 600 */
  readonly tasks?: number;
  /** Worker invocations in flight at once. */
  readonly concurrency?: number;
  /** Records per worker invocation, 1–10. */
  readonly batchSize?: number;
  /** The task queue's visibility timeout, in seconds (fractions allowed). */
  readonly visibility?: number;
  /** The worker's invocation timeout, in seconds (fractions allowed). */
  readonly invocationTimeout?: number;
  /** Share of receives that also deliver a duplicate copy, 0–1. */
  readonly duplicateRate?: number;
  readonly seed?: number;
  readonly runId?: string;
  readonly dynamodbPort?: number;
  /** An already running DynamoDB (Local) to use instead of starting one; fresh tables are created. */
  readonly dynamodbEndpoint?: string;
  /**
   * Keep DynamoDB Local's data in `.conveyor/dynamodb/`, so `status`, `results`
   * and `audit` find the run later. Slower: DynamoDB Local then writes to disk.
   */
  readonly keepState?: boolean;
  /** Addresses (CIDRs) the gateway may fetch although not public, for FILE runs. */
  readonly allowAddress?: readonly string[];
  /** Seconds to wait for the run to complete. */
  readonly timeout?: number;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** A run id from the date and a random suffix, e.g. `run-20250101-120000-1a2b`. */
export const newRunId = (prefix: string, now = new Date()): string => {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

  return `${prefix}-${stamp}-${randomBytes(2).toString('hex')}`;
};

interface RunPlan {
  readonly runId: string;
  readonly inputs: () => AsyncIterable<TaskInput>;
  readonly total: number;
}

const planFileRun = async (file: string, runId: string): Promise<RunPlan> => {
  const total = requireValidTaskInputs(await validateTaskInputs(file));

  return { runId, inputs: () => readTaskInputs(file), total };
};

const planDemoRun = (demo: DemoRun, runId: string): RunPlan => ({
  runId,
  inputs: async function* () {
    yield* demo.urls.map((url, index) => ({ url, line: index + 1 }));
  },
  total: demo.urls.length,
});

const checkOptions = (file: string | undefined, options: LocalRunOptions) => {
  if (file === undefined && !options.demo) {
    throw new InvalidOptionError('FILE or --demo', 'given', 'neither');
  }
  if (file !== undefined && options.demo) {
    throw new InvalidOptionError('FILE or --demo', 'given, not both', `${file} and --demo`);
  }
  if (options.tasks !== undefined && !options.demo) {
    throw new InvalidOptionError('--tasks', 'used with --demo', String(options.tasks));
  }
};

const secondsToMs = (seconds: number | undefined) =>
  seconds === undefined ? undefined : Math.round(seconds * 1_000);

const startPipeline = async (options: LocalRunOptions, io: CliIo, demo: boolean) => {
  const paths = localStatePaths(io.cwd);
  await ensureLocalState(paths, { withDatabase: options.keepState === true });
  const allowed = demo ? ['127.0.0.1/32'] : (options.allowAddress ?? []);

  return startLocalPipeline({
    ...(demo ? demoPipelineOptions() : {}),
    ...definedOnly({
      dataDir: options.keepState ? paths.dynamoDbDir : undefined,
      resultsDir: paths.resultsDir,
      dynamoDbPort: options.dynamodbPort,
      dynamoDbEndpoint: options.dynamodbEndpoint,
      maximumConcurrency: options.concurrency,
      batchSize: options.batchSize,
      visibilityTimeoutMs: secondsToMs(options.visibility),
      invocationTimeoutMs: secondsToMs(options.invocationTimeout),
      duplicateRate: options.duplicateRate,
      seed: options.seed,
    }),
    fetchPage: createGateway({ allowedAddresses: allowed }),
    logger: options.verbose ? consoleLogger(io.stderr) : undefined,
  });
};

/** Drops undefined fields, so they do not override the demo's settings. */
const definedOnly = <T extends object>(fields: T): Partial<T> =>
  Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;

/** Resolves when the run completes; resolves undefined if the signal aborts first. */
const waitOrInterrupt = (
  pipeline: LocalPipeline,
  plan: RunPlan,
  options: LocalRunOptions,
  io: CliIo,
): Promise<RunProgress | undefined> => {
  const reporter = createProgressReporter({
    output: io.stdout,
    runId: plan.runId,
    quiet: options.json === true,
  });
  const completed = pipeline.waitForRun(plan.runId, {
    timeoutMs: (options.timeout ?? DEFAULT_RUN_TIMEOUT_SECONDS) * 1_000,
    onProgress: (progress) => reporter.update(progress),
  });
  const interrupted = new Promise<undefined>((resolve) => {
    if (io.signal?.aborted) resolve(undefined);
    io.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
  });

  return Promise.race([completed, interrupted]).finally(() => reporter.stop());
};

const report = (summary: RunSummary, io: CliIo, options: LocalRunOptions) => {
  const ok = invariantsHold(summary);
  if (options.json) {
    printJson(io.stdout, { ok, ...summary });
  } else {
    println(io.stdout);
    for (const line of formatSummary(summary)) println(io.stdout, line);
  }

  return ok ? EXIT_CODE.ok : EXIT_CODE.invariantBroken;
};

const describeStart = (plan: RunPlan, pipeline: LocalPipeline, demo: DemoRun | undefined) => [
  `Run ${plan.runId}: ${plan.total} tasks` + (demo ? ` on the demo site ${demo.site.baseUrl}` : ''),
  `  DynamoDB Local ${pipeline.dynamoDbEndpoint}, results in ${pipeline.resultsDir}`,
];

/**
 * `conveyor local run [FILE] [--demo]`: starts the local pipeline, submits the
 * run, shows progress until it completes, and prints the summary with the
 * invariants. Exits non-zero if an invariant fails or on Ctrl-C.
 */
export const localRunCommand = async (
  file: string | undefined,
  options: LocalRunOptions,
  io: CliIo,
): Promise<number> => {
  checkOptions(file, options);
  const runId = options.runId ?? newRunId(options.demo ? 'demo' : 'run');
  const filePlan = file === undefined ? undefined : await planFileRun(file, runId);

  const demo = options.demo ? await startDemo(options.tasks ?? DEMO.tasks) : undefined;
  let pipeline: LocalPipeline | undefined;
  try {
    pipeline = await startPipeline(options, io, demo !== undefined);
    const plan = filePlan ?? planDemoRun(demo as DemoRun, runId);
    if (!options.json)
      for (const line of describeStart(plan, pipeline, demo)) println(io.stdout, line);

    const startedAt = Date.now();
    await pipeline.submit(plan.runId, plan.inputs);
    const progress = await waitOrInterrupt(pipeline, plan, options, io);
    if (!progress) {
      println(io.stderr, `Interrupted; run ${plan.runId} stopped before it completed.`);
      return EXIT_CODE.interrupted;
    }

    const audit = await auditRun(pipeline, plan.runId);

    return report(summarizeRun(pipeline, plan.runId, audit, Date.now() - startedAt), io, options);
  } finally {
    await pipeline?.stop();
    await demo?.site.close();
  }
};
