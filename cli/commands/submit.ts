import { submitRun, type SubmitRunSummary } from '../../lambdas/domain/submit';
import { readTaskInputs, requireValidTaskInputs, validateTaskInputs } from '../input';
import { EXIT_CODE } from '../exit-codes';
import { printJson, println, type CliIo } from '../io';
import { localRunCommand, newRunId, type LocalRunOptions } from './local-run';
import { withBackend, type TargetOptions } from './target';

export interface SubmitOptions extends TargetOptions {
  readonly runId?: string;
  /** Counter shard items of the run, 1–100. */
  readonly shards?: number;
}

const formatSubmitted = (summary: SubmitRunSummary, stack: string) => [
  `Run ${summary.runId} submitted to stack ${stack}: ${summary.total} tasks ` +
    `(${summary.rowsWritten} rows written, ${summary.rowsExisting} already stored, ` +
    `${summary.messagesSent} messages sent), status ${summary.status}`,
  `Follow it with: conveyor status ${summary.runId} --stack ${stack} --watch`,
];

/**
 * `conveyor submit FILE`: validates the input (every unreadable line is
 * reported with its line number) and submits it to the deployed stack. With
 * the local state there are no workers outside this process, so the run is
 * processed here, as `local run FILE` does.
 */
export const submitCommand = async (
  file: string,
  options: SubmitOptions,
  io: CliIo,
): Promise<number> => {
  if (options.stack === undefined) {
    const localOptions: LocalRunOptions = { ...options, runId: options.runId };
    if (!options.json) println(io.stdout, 'No --stack given: running the file locally.');

    return localRunCommand(file, localOptions, io);
  }

  const total = requireValidTaskInputs(await validateTaskInputs(file));
  const runId = options.runId ?? newRunId('run');

  return withBackend(options, io, async (backend) => {
    const summary = await submitRun(
      {
        documentClient: backend.documentClient,
        tables: backend.tables,
        sender: backend.sender as NonNullable<typeof backend.sender>,
      },
      { runId, source: () => readTaskInputs(file), total, shardCount: options.shards },
    );

    if (options.json) printJson(io.stdout, summary);
    else
      for (const line of formatSubmitted(summary, options.stack as string))
        println(io.stdout, line);

    return EXIT_CODE.ok;
  });
};
