import { setTimeout as sleep } from 'node:timers/promises';
import { readProgress, type RunProgress } from '../../lambdas/domain/progress';
import { RUN_STATUS } from '../../lambdas/domain/schema';
import type { Backend } from '../backend';
import { RunNotFoundError } from '../errors';
import { printJson, println, type CliIo } from '../io';
import { createProgressReporter } from '../progress';
import { withBackend, type TargetOptions } from './target';

/** How often `status --watch` reads the run. */
export const WATCH_INTERVAL_MS = 1_000;

export interface StatusOptions extends TargetOptions {
  /** Keep reading until the run completes, with live progress. */
  readonly watch?: boolean;
}

/** The run's status and counters as printed lines. */
export const formatStatus = (runId: string, progress: RunProgress): string[] => {
  const { total, completed, successful, failed } = progress.counters;

  return [
    `Run ${runId}: ${progress.meta?.status ?? 'unknown'}`,
    `  tasks      ${total} total, ${completed} completed (${successful} successful, ` +
      `${failed} failed), ${total - completed} to go`,
    `  created    ${progress.meta?.createdAt ?? '-'}`,
    `  completed  ${progress.meta?.completedAt ?? '-'}`,
  ];
};

const readExisting = async (backend: Backend, runId: string) => {
  const progress = await readProgress(backend, runId);
  if (!progress.meta) throw new RunNotFoundError(runId, backend.description);

  return progress;
};

const watch = async (backend: Backend, runId: string, io: CliIo, json: boolean) => {
  const reporter = createProgressReporter({ output: io.stdout, runId, quiet: json });
  try {
    for (;;) {
      const progress = await readExisting(backend, runId);
      reporter.update(progress);
      if (progress.meta?.status === RUN_STATUS.completed || io.signal?.aborted) return progress;
      await sleep(WATCH_INTERVAL_MS, undefined, { signal: io.signal }).catch(() => undefined);
    }
  } finally {
    reporter.stop();
  }
};

/** `conveyor status RUN [--watch]`: prints a run's status and counters. */
export const statusCommand = (runId: string, options: StatusOptions, io: CliIo): Promise<number> =>
  withBackend(options, io, async (backend) => {
    const progress = options.watch
      ? await watch(backend, runId, io, options.json === true)
      : await readExisting(backend, runId);

    if (options.json) printJson(io.stdout, { runId, ...progress });
    else for (const line of formatStatus(runId, progress)) println(io.stdout, line);

    return io.signal?.aborted ? 130 : 0;
  });
