/**
 * The `conveyor` command line: commander wiring over command functions that
 * take their options and an injected {@link CliIo}, so tests run them
 * in-process. `runCli` turns every outcome into an exit code.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConveyorError } from '../lambdas/domain/errors';
import { auditCommand } from './commands/audit';
import { DEFAULT_RUN_TIMEOUT_SECONDS, localRunCommand } from './commands/local-run';
import { resultsCommand } from './commands/results';
import { statusCommand } from './commands/status';
import { submitCommand } from './commands/submit';
import { EXIT_CODE } from './exit-codes';
import { println, type CliIo } from './io';

const integerOption =
  (min: number, max: number) =>
  (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${raw}".`);
    }

    return value;
  };

const numberOption =
  (min: number, max: number) =>
  (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${raw}".`);
    }

    return value;
  };

const collect = (value: string, previous: string[] = []) => [...previous, value];

const targetOptions = (command: Command) =>
  command
    .option('--stack <name>', 'use the deployed CloudFormation stack instead of the local state')
    .option(
      '--dynamodb-port <port>',
      'port for DynamoDB Local on the local state (default: a free one)',
      integerOption(1, 65_535),
    )
    .option('--json', 'print JSON for scripts');

const buildProgram = (io: CliIo, setExitCode: (code: number) => void): Command => {
  const program = new Command('conveyor')
    .description('Batch scraping runs that count every task exactly once (SQS, Lambda, DynamoDB).')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const run = (work: () => Promise<number>) => async () => setExitCode(await work());

  const local = program.command('local').description('run the whole pipeline on this machine');
  local
    .command('run')
    .description(
      'start DynamoDB Local, the local queues and handlers, run FILE (or the demo) to completion and print the summary',
    )
    .argument('[file]', 'input: one URL per line, CSV with a url column, or JSON lines')
    .option(
      '--demo',
      'run the demo: pages on a local site, some slow, flaky, missing or redirecting',
    )
    .option('--tasks <n>', 'tasks of the demo (default: 600)', integerOption(1, 100_000))
    .option('--concurrency <n>', 'worker invocations in flight at once', integerOption(1, 1_000))
    .option('--batch-size <n>', 'messages per worker invocation', integerOption(1, 10))
    .option('--visibility <seconds>', 'task queue visibility timeout', numberOption(0.01, 43_200))
    .option(
      '--invocation-timeout <seconds>',
      'the worker "Lambda" timeout',
      numberOption(0.05, 900),
    )
    .option(
      '--duplicate-rate <rate>',
      'share of receives that also deliver a duplicate',
      numberOption(0, 1),
    )
    .option('--seed <n>', 'seed of the injected duplicates', integerOption(0, 2 ** 31))
    .option('--run-id <id>', 'run id (default: demo-<time>-<random> or run-<time>-<random>)')
    .option(
      '--dynamodb-port <port>',
      'port for DynamoDB Local (default: a free one)',
      integerOption(1, 65_535),
    )
    .option(
      '--dynamodb-endpoint <url>',
      'use this running DynamoDB Local (fresh tables) instead of starting one',
    )
    .option(
      '--keep-state',
      'keep the database in .conveyor/ so status, results and audit work afterwards (slower)',
    )
    .addOption(
      new Option(
        '--allow-address <cidr>',
        'let the gateway fetch this non-public address (FILE runs)',
      ).argParser(collect),
    )
    .option(
      '--timeout <seconds>',
      `give up waiting after this long (default: ${DEFAULT_RUN_TIMEOUT_SECONDS})`,
      numberOption(1, 86_400),
    )
    .option('--json', 'print the summary as JSON, without progress')
    .option('--verbose', 'log every handler event to stderr')
    .action((file: string | undefined, options) => run(() => localRunCommand(file, options, io))());

  targetOptions(
    program
      .command('submit')
      .description('validate FILE and submit it as a run (to --stack, or run it locally)')
      .argument('<file>', 'input: one URL per line, CSV with a url column, or JSON lines')
      .option('--run-id <id>', 'run id (default: run-<time>-<random>)')
      .option('--shards <n>', 'counter shards of the run', integerOption(1, 100)),
  ).action((file: string, options) => run(() => submitCommand(file, options, io))());

  targetOptions(
    program
      .command('status')
      .description("print a run's status and counters")
      .argument('<run>', 'run id')
      .option('--watch', 'keep reading until the run completes'),
  ).action((runId: string, options) => run(() => statusCommand(runId, options, io))());

  targetOptions(
    program
      .command('results')
      .description("list a run's tasks: id, status, HTTP status, URL, result location or error")
      .argument('<run>', 'run id')
      .option('--failed', 'only the failed tasks'),
  ).action((runId: string, options) => run(() => resultsCommand(runId, options, io))());

  targetOptions(
    program
      .command('audit')
      .description("recount a run's task rows and compare them with its counters")
      .argument('<run>', 'run id'),
  ).action((runId: string, options) => run(() => auditCommand(runId, options, io))());

  return program;
};

/** Runs the CLI on `argv` (without the node and script paths) and returns the exit code. */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  let exitCode: number = EXIT_CODE.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    return exitCodeFor(error, io);
  }

  return exitCode;
};

const exitCodeFor = (error: unknown, io: CliIo): number => {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT_CODE.ok : EXIT_CODE.usage;
  }
  if (error instanceof ConveyorError) {
    println(io.stderr, `error: ${error.message}`);

    return EXIT_CODE.failed;
  }
  println(
    io.stderr,
    `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );

  return EXIT_CODE.failed;
};
