import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../cli/io';
import { runCli } from '../../cli/program';

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process in a fresh temporary working folder and captures its output. */
export const runCliInProcess = async (
  argv: readonly string[],
  options: Partial<Pick<CliIo, 'cwd' | 'signal' | 'openBackend'>> = {},
): Promise<CliResult> => {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    cwd: options.cwd ?? (await mkdtemp(join(tmpdir(), 'conveyor-cli-'))),
    env: {},
    signal: options.signal,
    openBackend: options.openBackend,
  };

  const exitCode = await runCli(argv, io);

  return { exitCode, stdout, stderr };
};
