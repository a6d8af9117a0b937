/**
 * `npm run simulate`: the seeded fault simulation, against conveyor and the
 * baseline protocols. Exits 1 when conveyor shows any violation.
 *
 *   npx tsx local/sim/simulate.ts --seeds 2000
 *   npx tsx local/sim/simulate.ts --protocols conveyor --seed 42 --verbose
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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
  readonly json?: string;
  readonly verbose: boolean;
}

const markdownTable = (summaries: ReturnType<typeof summarise>[]) => {
  const kinds = Object.values(VIOLATION);
  const header = `| protocol | scenarios | with violations | ${kinds.join(' | ')} | target calls / task |`;
  const rule = `|${' --- |'.repeat(kinds.length + 4)}`;
  const rows = summaries.map(
    (summary) =>
      `| ${summary.protocol} | ${summary.scenarios} | ${summary.failedScenarios} | ` +
      kinds.map((kind) => summary.scenariosByKind[kind] ?? 0).join(' | ') +
      ` | ${summary.targetCallsPerTask.toFixed(2)} |`,
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
  const database = options.endpoint ? undefined : await startDynamoDbLocal();
  const summaries = [];
  try {
    const environment = await prepareEnvironment(options.endpoint ?? database!.endpoint);
    for (const protocol of options.protocols) {
      const startedAt = Date.now();
      let done = 0;
      const results = await runSeeds(environment, protocol, seeds, {
        concurrency: options.concurrency,
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

  console.log(markdownTable(summaries));
  if (options.json) {
    await mkdir(dirname(options.json), { recursive: true });
    await writeFile(options.json, JSON.stringify({ seeds: seeds.length, summaries }, null, 2));
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
  .option('--json <path>', 'also write the summary as JSON here')
  .option('--verbose', 'print every scenario', false);

program.parse();
main(program.opts<SimulateOptions>()).then(
  (conveyorFailures) => process.exit(conveyorFailures > 0 ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
