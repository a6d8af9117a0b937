/**
 * The `conveyor` CLI entry point. Ctrl-C (SIGINT) or SIGTERM aborts the
 * running command, which stops DynamoDB Local and exits non-zero; a second
 * signal exits at once.
 */
import { runCli } from '../cli/program';
import { EXIT_CODE } from '../cli/exit-codes';
import { processIo } from '../cli/io';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const interruption = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (interruption.signal.aborted) process.exit(EXIT_CODE.interrupted);
  process.stderr.write(`\n${signal} received: stopping (again to exit at once)\n`);
  interruption.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

void runCli(process.argv.slice(2), processIo(interruption.signal)).then(
  (code) => {
    process.exitCode = interruption.signal.aborted ? EXIT_CODE.interrupted : code;
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = EXIT_CODE.failed;
  },
);
