/**
 * Live progress of a run: a cli-progress bar when the output is a terminal,
 * otherwise a plain line every few seconds (logs and CI stay readable), and
 * nothing at all in --json mode.
 */
import { SingleBar } from 'cli-progress';
import type { RunProgress } from '../lambdas/domain/progress';
import { println, type TextOutput } from './io';

/** How often a progress line is printed when the output is not a terminal. */
export const PROGRESS_LINE_INTERVAL_MS = 3_000;

export interface ProgressReporter {
  update(progress: RunProgress): void;
  /** Draws the last state and releases the terminal line. */
  stop(): void;
}

export interface ProgressReporterOptions {
  readonly output: TextOutput;
  readonly runId: string;
  /** Print nothing (the --json mode). */
  readonly quiet: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

const rateOf = (completed: number, startedAt: number, now: number) =>
  now > startedAt ? (completed * 1_000) / (now - startedAt) : 0;

/** Picks the reporter for the output: bar on a TTY, lines otherwise, none when quiet. */
export const createProgressReporter = (options: ProgressReporterOptions): ProgressReporter => {
  if (options.quiet) return { update: () => undefined, stop: () => undefined };

  return options.output.isTTY ? barReporter(options) : lineReporter(options);
};

const barReporter = (options: ProgressReporterOptions): ProgressReporter => {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const bar = new SingleBar({
    stream: options.output as NodeJS.WritableStream,
    format:
      `${options.runId} [{bar}] {value}/{total} completed | {successful} successful | ` +
      '{failed} failed | {rate} tasks/s',
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;

  return {
    update: ({ counters }) => {
      const payload = {
        successful: counters.successful,
        failed: counters.failed,
        rate: rateOf(counters.completed, startedAt, now()).toFixed(1),
      };
      if (!started && counters.total > 0) {
        bar.start(counters.total, counters.completed, payload);
        started = true;
      }
      if (started) bar.update(counters.completed, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
};

const lineReporter = (options: ProgressReporterOptions): ProgressReporter => {
  const now = options.now ?? Date.now;
  const startedAt = now();
  let printedAt = startedAt;

  return {
    update: ({ counters }) => {
      if (now() - printedAt < PROGRESS_LINE_INTERVAL_MS) return;
      printedAt = now();
      const rate = rateOf(counters.completed, startedAt, printedAt).toFixed(1);
      println(
        options.output,
        `progress: ${counters.completed}/${counters.total} completed ` +
          `(${counters.successful} successful, ${counters.failed} failed), ${rate} tasks/s`,
      );
    },
    stop: () => undefined,
  };
};
