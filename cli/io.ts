/**
 * Where a command writes and what it knows of its surroundings, injected so
 * tests run commands in-process and read what they printed.
 */
import type { Backend, BackendOptions } from './backend';

/** A writable text stream; `isTTY` decides between a live bar and progress lines. */
export interface TextOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** The folder `.conveyor/` lives in. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Aborted on Ctrl-C: long commands stop their work, clean up and exit non-zero.
   * @default never aborted
   */
  readonly signal?: AbortSignal;
  /**
   * Opens the run store for `submit`, `status`, `results` and `audit`.
   * @default openBackend (the local state folder, or the stack's outputs)
   */
  readonly openBackend?: (options: BackendOptions, cwd: string) => Promise<Backend>;
}

/** The io of the real process. */
export const processIo = (signal?: AbortSignal): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  signal,
});

/** Writes one line. */
export const println = (output: TextOutput, line = '') => output.write(`${line}\n`);

/** Writes a value as one line of JSON, for scripts. */
export const printJson = (output: TextOutput, value: unknown) =>
  output.write(`${JSON.stringify(value, null, 2)}\n`);
