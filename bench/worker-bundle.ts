/**
 * Size and cold load time of the worker Lambda's bundle: lambdas/handlers/worker.ts
 * bundled with esbuild the way the stack ships it (node, minified, CommonJS, AWS
 * SDK included), then `require`d in fresh node processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/** How many fresh processes time the `require`. */
export const BUNDLE_LOAD_SAMPLES = 5;

const WORKER_ENTRY = resolve(__dirname, '../lambdas/handlers/worker.ts');

export interface WorkerBundleMeasurement {
  readonly bytes: number;
  /** Median over the samples of the time `require` took, in a fresh node each time. */
  readonly medianLoadMs: number;
  readonly loadSamplesMs: readonly number[];
  readonly esbuildTarget: string;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);

  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** Times one `require` of `file` in a new node process. */
const timeRequire = (file: string): number => {
  const script =
    'const started = process.hrtime.bigint();' +
    `require(${JSON.stringify(file)});` +
    'process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));';
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  if (child.status !== 0) {
    throw new Error(`Loading the worker bundle failed (exit ${child.status}): ${child.stderr}`);
  }

  return Number(child.stdout);
};

/** Bundles the worker into a temp folder, measures it, and removes the folder. */
export const measureWorkerBundle = async (): Promise<WorkerBundleMeasurement> => {
  const folder = await mkdtemp(join(tmpdir(), 'conveyor-bench-bundle-'));
  const outfile = join(folder, 'index.js');
  const esbuildTarget = 'node22';
  try {
    await build({
      entryPoints: [WORKER_ENTRY],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: esbuildTarget,
      format: 'cjs',
      logLevel: 'silent',
    });
    const { size } = await stat(outfile);
    const loadSamplesMs = Array.from({ length: BUNDLE_LOAD_SAMPLES }, () => timeRequire(outfile));

    return { bytes: size, medianLoadMs: median(loadSamplesMs), loadSamplesMs, esbuildTarget };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
};
