/**
 * Runs bench/submit-memory.ts in its own process (so its memory is not mixed
 * with the benchmark's) and reads the submit phase's peak RSS from its output.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ConveyorError } from '../lambdas/domain/errors';

const SUBMIT_MEMORY_SCRIPT = resolve(__dirname, 'submit-memory.ts');
const REPOSITORY_ROOT = resolve(__dirname, '..');
const PHASE_LINE = /^(validate|submit)\s+([\d.]+) s; rss ([\d.]+) MiB -> peak ([\d.]+) MiB/;

export interface SubmitPhase {
  readonly seconds: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
}

export interface SubmitMemoryMeasurement {
  readonly urls: number;
  readonly validate: SubmitPhase;
  readonly submit: SubmitPhase;
  /** What the script printed, for the record. */
  readonly output: string;
}

/** bench/submit-memory.ts failed or printed something this parser does not know. */
export class SubmitMemoryError extends ConveyorError {
  override readonly name = 'SubmitMemoryError';

  constructor(
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`bench/submit-memory.ts exited with ${exitCode} or printed no phase lines: ${output}`);
  }
}

const phaseFrom = (output: string, phase: 'validate' | 'submit'): SubmitPhase | undefined => {
  for (const line of output.split('\n')) {
    const match = PHASE_LINE.exec(line);
    if (match?.[1] === phase) {
      return {
        seconds: Number(match[2]),
        rssBeforeMiB: Number(match[3]),
        peakRssMiB: Number(match[4]),
      };
    }
  }

  return undefined;
};

/** Streams `urls` generated URLs through validation and submission and reports peak memory. */
export const measureSubmitMemory = (urls: number): Promise<SubmitMemoryMeasurement> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      // tsx as a loader in this node, so --expose-gc reaches the script.
      ['--expose-gc', '--import', 'tsx', SUBMIT_MEMORY_SCRIPT, String(urls), 'text'],
      {
        cwd: REPOSITORY_ROOT,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      const validate = phaseFrom(output, 'validate');
      const submit = phaseFrom(output, 'submit');
      if (code !== 0 || !validate || !submit) {
        reject(new SubmitMemoryError(code, output));
        return;
      }
      resolvePromise({ urls, validate, submit, output: output.trim() });
    });
  });
