/**
 * Turns the benchmark's measurements into per-task figures, ratios to the
 * two-step fix, a markdown report and a JSON document.
 */
import { BILLING_RULES } from './capacity';
import { DYNAMODB_ON_DEMAND_PRICES, dynamoDbUsdPerMillionTasks } from './pricing';
import type { SubmitMemoryMeasurement } from './submit-peak';
import type { WorkerBundleMeasurement } from './worker-bundle';
import type { ProtocolRun, Workload } from './workload';

/** The protocol every other one is compared with. */
export const REFERENCE_PROTOCOL = 'two-step';

/** Per-task figures of one protocol on one workload. */
export interface ProtocolFigures {
  readonly protocol: string;
  readonly workload: string;
  readonly tasks: number;
  readonly tasksPerSecond: number;
  readonly requestsPerTask: number;
  readonly writeUnitsPerTask: number;
  readonly readUnitsPerTask: number;
  readonly targetCallsPerTask: number;
  readonly deliveriesPerTask: number;
  readonly usdPerMillionTasks: number;
  /** Completed as counted by the protocol, against the real total. */
  readonly counted: string;
}

type RatioKey = Exclude<keyof ProtocolFigures, 'protocol' | 'workload' | 'tasks' | 'counted'>;

const RATIO_KEYS: readonly RatioKey[] = [
  'requestsPerTask',
  'writeUnitsPerTask',
  'readUnitsPerTask',
  'targetCallsPerTask',
  'tasksPerSecond',
  'usdPerMillionTasks',
];

export interface MachineInfo {
  readonly date: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  /** 1, 5 and 15 minute load averages when the benchmark started and ended. */
  readonly loadAverageAtStart: readonly number[];
  readonly loadAverageAtEnd: readonly number[];
}

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly workloads: readonly Workload[];
  readonly figures: readonly ProtocolFigures[];
  /** Each figure divided by the two-step fix's on the same workload (absent without it). */
  readonly ratiosToTwoStep: readonly (Pick<ProtocolFigures, 'protocol' | 'workload'> &
    Partial<Record<RatioKey, number>>)[];
  readonly runs: readonly ProtocolRun[];
  readonly workerBundle: WorkerBundleMeasurement | undefined;
  readonly submitMemory: SubmitMemoryMeasurement | undefined;
  readonly billingRules: readonly string[];
  readonly prices: typeof DYNAMODB_ON_DEMAND_PRICES;
  readonly method: readonly string[];
}

/** How the numbers were made, printed under the tables. */
export const METHOD_NOTES = [
  'Every protocol runs the same workload on the local pipeline (DynamoDB Local, the local SQS ' +
    'emulation with redrive, conveyor’s dead-letter handler and finalizer), one protocol after ' +
    'the other, each on a DynamoDB Local of its own after an unreported warm-up run of the same ' +
    'protocol (DynamoDB Local slows down as runs accumulate in it).',
  'Target: a local HTTP server on 127.0.0.1 started by the benchmark, reached through conveyor’s ' +
    'gateway (allowedAddresses 127.0.0.1/32) by every protocol; target calls are the requests it served.',
  'Only the worker’s DynamoDB requests are metered (a middleware on its client, inside the SDK ' +
    'retry loop); submission, the dead-letter handler and the finalizer are the same for every ' +
    'protocol and left out.',
  'DynamoDB Local reports no consumed capacity: WCU/RCU are derived from the recorded requests ' +
    'and item sizes by the rules below. A write is billed on the largest image of its item seen ' +
    'during the run (request items, returned items, final state): exact while every image of an ' +
    'item stays within one 1 KB step (see the largest item sizes in the JSON).',
  'tasks/s = tasks ÷ time from the start of submission until the run’s counters reach the total. ' +
    'Metering then continues until the task queue is empty (at most 15 s), so late duplicate ' +
    'deliveries are billed too.',
  'Duplicates: the local queue leaves a second visible copy on the stated share of receives. ' +
    'With a queue thousands of messages deep the copy is received after the first delivery ' +
    'finished, so this measures what suppressing a late duplicate costs; the concurrent race ' +
    '(and the double counts it causes) is exercised by `npm run simulate`.',
];

const perTask = (value: number, tasks: number) => (tasks > 0 ? value / tasks : 0);

/** Per-task figures of a run. */
export const figuresOf = (run: ProtocolRun): ProtocolFigures => {
  const writeUnitsPerTask = perTask(run.dynamoDb.writeUnits, run.tasks);
  const readUnitsPerTask = perTask(run.dynamoDb.readUnits, run.tasks);

  return {
    protocol: run.protocol,
    workload: run.workload,
    tasks: run.tasks,
    tasksPerSecond: run.tasksPerSecond,
    requestsPerTask: perTask(run.dynamoDb.requestCount, run.tasks),
    writeUnitsPerTask,
    readUnitsPerTask,
    targetCallsPerTask: perTask(run.targetCalls, run.tasks),
    deliveriesPerTask: perTask(run.deliveries, run.tasks),
    usdPerMillionTasks: dynamoDbUsdPerMillionTasks(writeUnitsPerTask, readUnitsPerTask),
    counted: `${run.counters.completed}/${run.tasks}`,
  };
};

/** Each protocol's figures divided by the two-step fix's on the same workload. */
export const ratiosToReference = (figures: readonly ProtocolFigures[]) =>
  figures.flatMap((entry) => {
    const reference = figures.find(
      (candidate) =>
        candidate.workload === entry.workload && candidate.protocol === REFERENCE_PROTOCOL,
    );
    if (!reference) return [];
    const ratios = Object.fromEntries(
      RATIO_KEYS.map((key) => [key, reference[key] > 0 ? entry[key] / reference[key] : 0]),
    ) as Record<RatioKey, number>;

    return [{ protocol: entry.protocol, workload: entry.workload, ...ratios }];
  });

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '–' : value.toFixed(digits);

const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

const figuresTable = (report: BenchReport): string[] => {
  const header = [
    'workload',
    'protocol',
    'tasks/s',
    'DDB requests/task',
    'WCU/task',
    'RCU/task',
    'target calls/task',
    'deliveries/task',
    'counted',
    '$/1M tasks (DDB)',
    '× two-step: WCU',
    '× two-step: $',
    '× two-step: target calls',
    '× two-step: tasks/s',
  ];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const entry of report.figures) {
    const ratio = report.ratiosToTwoStep.find(
      (candidate) => candidate.protocol === entry.protocol && candidate.workload === entry.workload,
    );
    lines.push(
      row([
        entry.workload,
        entry.protocol,
        fixed(entry.tasksPerSecond, 1),
        fixed(entry.requestsPerTask, 2),
        fixed(entry.writeUnitsPerTask, 2),
        fixed(entry.readUnitsPerTask, 2),
        fixed(entry.targetCallsPerTask, 3),
        fixed(entry.deliveriesPerTask, 3),
        entry.counted,
        `$${fixed(entry.usdPerMillionTasks, 2)}`,
        fixed(ratio?.writeUnitsPerTask, 2),
        fixed(ratio?.usdPerMillionTasks, 2),
        fixed(ratio?.targetCallsPerTask, 2),
        fixed(ratio?.tasksPerSecond, 2),
      ]),
    );
  }

  return lines;
};

const operationsTable = (report: BenchReport): string[] => {
  const operations = [...new Set(report.runs.flatMap((run) => Object.keys(run.dynamoDb.requests)))];
  operations.sort();
  const header = ['workload', 'protocol', ...operations.map((name) => `${name}/task`)];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const run of report.runs) {
    lines.push(
      row([
        run.workload,
        run.protocol,
        ...operations.map((name) => fixed(perTask(run.dynamoDb.requests[name] ?? 0, run.tasks), 3)),
      ]),
    );
  }

  return lines;
};

const workloadLines = (report: BenchReport) =>
  report.workloads.map(
    (workload) =>
      `- **${workload.name}**: ${workload.tasks} tasks, target latency ${workload.latencyMs} ms, ` +
      `${workload.concurrency} concurrent worker invocations of one message each, ` +
      `${(workload.duplicateRate * 100).toFixed(1)}% of receives duplicated (seed ${workload.seed}).`,
  );

const extrasLines = (report: BenchReport): string[] => {
  const lines: string[] = [];
  const bundle = report.workerBundle;
  if (bundle) {
    lines.push(
      `- Worker bundle (esbuild: bundle, minify, cjs, platform node, target ${bundle.esbuildTarget}, ` +
        `AWS SDK included as the stack ships it): ${(bundle.bytes / 1024).toFixed(0)} KiB ` +
        `(${bundle.bytes} bytes); median \`require\` time in a fresh node over ` +
        `${bundle.loadSamplesMs.length} runs: ${bundle.medianLoadMs.toFixed(0)} ms ` +
        `(samples ${bundle.loadSamplesMs.map((ms) => ms.toFixed(0)).join(', ')} ms).`,
    );
  }
  const submit = report.submitMemory;
  if (submit) {
    lines.push(
      `- \`submit\` streaming ${submit.urls.toLocaleString('en-US')} URLs (bench/submit-memory.ts, ` +
        `text input, instant fake DynamoDB and SQS, own process): peak RSS ` +
        `${submit.submit.peakRssMiB.toFixed(1)} MiB (from ${submit.submit.rssBeforeMiB.toFixed(1)} MiB ` +
        `at the start of the phase) in ${submit.submit.seconds.toFixed(1)} s; validation pass peak ` +
        `${submit.validate.peakRssMiB.toFixed(1)} MiB.`,
    );
  }

  return lines;
};

/** The whole report as markdown. */
export const renderMarkdown = (report: BenchReport): string => {
  const { machine, prices } = report;
  const failures = report.runs.filter((run) => Object.keys(run.fetchFailures).length > 0);
  const overloaded = report.runs.filter((run) => run.workerTimeouts > 0);

  return [
    '# conveyor benchmark',
    '',
    `${machine.date} · ${machine.cores} cores (${machine.cpuModel}) · node ${machine.node} · ` +
      `${machine.platform} · load average at start ${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}, ` +
      `at end ${machine.loadAverageAtEnd.map((load) => load.toFixed(2)).join(' ')}`,
    '',
    ...workloadLines(report),
    '',
    ...figuresTable(report),
    '',
    'DynamoDB requests per task by operation:',
    '',
    ...operationsTable(report),
    '',
    ...(failures.length > 0
      ? [
          'Failed target calls (each is retried by the protocol and shows in target calls/task): ' +
            failures
              .map((run) => `${run.workload}/${run.protocol} ${JSON.stringify(run.fetchFailures)}`)
              .join('; '),
          '',
        ]
      : []),
    ...(overloaded.length > 0
      ? [
          'Worker invocations cut off at the 5 s invocation timeout (the machine was overloaded; ' +
            'their messages came back): ' +
            overloaded
              .map((run) => `${run.workload}/${run.protocol} ${run.workerTimeouts}`)
              .join('; '),
          '',
        ]
      : []),
    ...extrasLines(report),
    '',
    `Prices: DynamoDB on-demand, ${prices.region}, ${prices.tableClass} table class: ` +
      `$${prices.usdPerMillionWriteRequestUnits} per million write request units, ` +
      `$${prices.usdPerMillionReadRequestUnits} per million read request units ` +
      `(in effect since ${prices.inEffectSince}; retrieved ${prices.retrievedOn}; source ${prices.source}). ` +
      `Included: ${prices.included}.`,
    '',
    'Billing rules applied:',
    '',
    ...report.billingRules.map((rule) => `- ${rule}`),
    '',
    'Method:',
    '',
    ...report.method.map((note) => `- ${note}`),
    '',
  ].join('\n');
};

/** Assembles the report document. */
export const buildReport = (parts: {
  readonly machine: MachineInfo;
  readonly workloads: readonly Workload[];
  readonly runs: readonly ProtocolRun[];
  readonly workerBundle: WorkerBundleMeasurement | undefined;
  readonly submitMemory: SubmitMemoryMeasurement | undefined;
}): BenchReport => {
  const figures = parts.runs.map(figuresOf);

  return {
    ...parts,
    figures,
    ratiosToTwoStep: ratiosToReference(figures),
    billingRules: BILLING_RULES,
    prices: DYNAMODB_ON_DEMAND_PRICES,
    method: METHOD_NOTES,
  };
};
