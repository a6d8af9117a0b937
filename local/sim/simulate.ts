/**
 * `npm run simulate`: the seeded fault simulation, against conveyor and the
 * baseline protocols. Exits 1 when conveyor shows any violation.
 *
 *   npm run simulate -- --seeds 2000
 *   npm run simulate -- --protocols conveyor --seed 42 --verbose
 *
 * A range of seeds writes its table and JSON to bench/results/ (see --out).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startDynamoDbLocal } from '../dynamodb-local';
import { VIOLATION } from './checker';
import { PROTOCOL_NAMES, prepareEnvironment, type ProtocolName } from './harness';
import { REGRESSION_SEEDS } from './regressions';
import { DEFAULT_SCENARIO_CONCURRENCY, replayCommand, runSeeds, summarise } from './runner';

const positiveInteger = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected a whole number of 0 or more; got "${value}"`);
  }

  return parsed;
};

const protocolList = (value: string): ProtocolName[] => {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(PROTOCOL_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown protocol ${unknown.join(', ')}; choose from ${PROTOCOL_NAMES.join(', ')}`,
    );
  }

  return names as ProtocolName[];
};

interface SimulateOptions {
  readonly seeds: number;
  readonly from: number;
  readonly seed?: number;
  readonly protocols: ProtocolName[];
  readonly concurrency: number;
  readonly endpoint?: string;
  readonly out: string;
  readonly verbose: boolean;
}

type TimedSummary = ReturnType<typeof summarise> & { readonly seconds: number };

const markdownTable = (summaries: readonly TimedSummary[]) => {
  const kinds = Object.values(VIOLATION);
  const header =
    `| protocol | scenarios | with violations | ${kinds.join(' | ')} ` +
    '| target calls / task | seconds |';
  const rule = `|${' --- |'.repeat(kinds.length + 5)}`;
  const rows = summaries.map(
    (summary) =>
      `| ${summary.protocol} | ${summary.scenarios} | ${summary.failedScenarios} | ` +
      kinds.map((kind) => summary.scenariosByKind[kind] ?? 0).join(' | ') +
      ` | ${summary.targetCallsPerTask.toFixed(2)} | ${summary.seconds.toFixed(0)} |`,
  );

  return [header, rule, ...rows].join('\n');
};

const main = async (options: SimulateOptions) => {
  const seeds =
    options.seed === undefined
      ? [
          ...REGRESSION_SEEDS,
          ...Array.from({ length: options.seeds }, (_, index) => options.from + index),
        ]
      : [options.seed];
  // One seed replays alone, so even the protocols' back-off jitter repeats.
  const concurrency = options.seed === undefined ? options.concurrency : 1;
  const database = options.endpoint ? undefined : await startDynamoDbLocal();
  const summaries: TimedSummary[] = [];
  try {
    const environment = await prepareEnvironment(options.endpoint ?? database!.endpoint);
    for (const protocol of options.protocols) {
      const startedAt = Date.now();
      let done = 0;
      const results = await runSeeds(environment, protocol, seeds, {
        concurrency,
        onResult: (result) => {
          done += 1;
          if (options.verbose || (result.violations.length > 0 && protocol === 'conveyor')) {
            console.log(
              `${protocol} seed ${result.seed}: ${result.violations.length} violations ` +
                `${JSON.stringify(result.violations)}\n  replay: ${replayCommand(protocol, result.seed)}`,
            );
            if (options.verbose) console.log(result.trace.join('\n'));
          }
          if (done % 250 === 0) console.error(`${protocol}: ${done}/${seeds.length} scenarios`);
        },
      });
      const summary = summarise(protocol, results);
      summaries.push({ ...summary, seconds: (Date.now() - startedAt) / 1000 });
      const examples = summary.failingSeeds.slice(0, 3);
      console.error(
        `${protocol}: ${summary.failedScenarios}/${summary.scenarios} scenarios with violations` +
          (examples.length > 0 ? `; e.g. ${replayCommand(protocol, examples[0] as number)}` : ''),
      );
    }
  } finally {
    await database?.stop();
  }

  const table = markdownTable(summaries);
  console.log(table);
  if (options.seed === undefined) {
    await mkdir(options.out, { recursive: true });
    const report = { seeds: seeds.length, from: options.from, concurrency, summaries };
    await writeFile(join(options.out, 'simulation.md'), `${table}\n`);
    await writeFile(join(options.out, 'simulation.json'), JSON.stringify(report, null, 2));
    console.error(`wrote ${join(options.out, 'simulation.md')} and simulation.json`);
  }

  return summaries.find((summary) => summary.protocol === 'conveyor')?.failedScenarios ?? 0;
};

const program = new Command('simulate')
  .description('Seeded fault simulation of whole runs, checked against the invariants')
  .option('--seeds <n>', 'how many seeds to run', positiveInteger, 200)
  .option('--from <seed>', 'first seed of the range', positiveInteger, 1)
  .option('--seed <seed>', 'replay this one seed only', positiveInteger)
  .option('--protocols <list>', 'comma-separated protocols', protocolList, [...PROTOCOL_NAMES])
  .option(
    '--concurrency <n>',
    'scenarios in flight at once',
    positiveInteger,
    DEFAULT_SCENARIO_CONCURRENCY,
  )
  .option('--endpoint <url>', 'use this DynamoDB Local instead of starting one')
  .option('--out <dir>', 'where a range of seeds writes simulation.md and .json', 'bench/results')
  .option('--verbose', 'print every scenario', false);

program.parse();
main(program.opts<SimulateOptions>()).then(
  (conveyorFailures) => process.exit(conveyorFailures > 0 ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
