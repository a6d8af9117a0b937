/**
 * Peak memory of validating and submitting a large input.
 *
 *   npx tsx bench/submit-memory.ts [tasks=1000000] [format=text|csv|jsonl]
 *
 * Generates the input file, then runs `validateTaskInputs` and `submitRun` over
 * it with a document client that answers every request at once and a task
 * sender that drops messages, so what is measured is submission's own memory,
 * not DynamoDB's or SQS's. Run with `node --expose-gc` (e.g. `npx tsx
 * --expose-gc ...`) to start each phase from a collected heap.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INPUT_FORMAT, readTaskInputs, validateTaskInputs, type InputFormat } from '../cli/input';
import { submitRun } from '../lambdas/domain/submit';

const DEFAULT_TASKS = 1_000_000;
const SAMPLE_INTERVAL_MS = 10;
const MIB = 1024 * 1024;

interface Peak {
  rss: number;
  heapUsed: number;
}

/** Samples memory on a timer and on demand, keeping the peaks. */
const startSampling = () => {
  const peak: Peak = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
  };
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  sample();

  return {
    sample,
    stop: (): Peak => {
      clearInterval(timer);
      sample();

      return peak;
    },
  };
};

const lineFor = (format: InputFormat, index: number): string => {
  const url = `https://example.test/catalogue/item/${index}?ref=bench`;
  if (format === INPUT_FORMAT.csv) return `${url},id-${index}\n`;
  if (format === INPUT_FORMAT.jsonLines) return `${JSON.stringify({ url, id: `id-${index}` })}\n`;

  return `${url}\n`;
};

const generateInput = async (path: string, format: InputFormat, tasks: number) => {
  const file = createWriteStream(path);
  if (format === INPUT_FORMAT.csv) file.write('url,id\n');
  for (let index = 0; index < tasks; index++) {
    if (!file.write(lineFor(format, index))) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
};

/** A document client whose every request succeeds at once, counting them. */
const instantDocumentClient = () => {
  const counts = new Map<string, number>();
  const client = {
    send: async (command: object) => {
      const name = command.constructor.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);

      return {};
    },
  };

  return { client: client as unknown as DynamoDBDocumentClient, counts };
};

const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

const measure = async <T>(phase: () => Promise<T>) => {
  collectGarbage();
  const before = process.memoryUsage();
  const sampling = startSampling();
  const startedMs = performance.now();
  const result = await phase();
  const elapsedMs = performance.now() - startedMs;
  const peak = sampling.stop();

  return { result, elapsedMs, before, peak };
};

const main = async () => {
  const tasks = Number(process.argv[2] ?? DEFAULT_TASKS);
  const format = (process.argv[3] ?? INPUT_FORMAT.text) as InputFormat;
  const folder = mkdtempSync(join(tmpdir(), 'conveyor-bench-'));
  const path = join(folder, `input.${format}`);

  try {
    await generateInput(path, format, tasks);
    const validation = await measure(() => validateTaskInputs(path));
    const { client, counts } = instantDocumentClient();
    let sent = 0;
    const sender = {
      sendTasks: async (keys: readonly unknown[]) => {
        sent += keys.length;
      },
    };
    const tables = { runs: 'runs', tasks: 'tasks' };
    const submission = await measure(() =>
      submitRun(
        { documentClient: client, tables, sender },
        {
          runId: 'bench-run',
          source: () => readTaskInputs(path),
          total: validation.result.total,
        },
      ),
    );

    console.log(`input: ${tasks} tasks, ${format}, ${mib(statSync(path).size)} on disk`);
    console.log(`node ${process.version}; gc between phases: ${'gc' in globalThis}`);
    for (const [name, phase] of [
      ['validate', validation],
      ['submit', submission],
    ] as const) {
      console.log(
        `${name.padEnd(8)} ${(phase.elapsedMs / 1000).toFixed(2)} s; ` +
          `rss ${mib(phase.before.rss)} -> peak ${mib(phase.peak.rss)}; ` +
          `heapUsed ${mib(phase.before.heapUsed)} -> peak ${mib(phase.peak.heapUsed)}`,
      );
    }
    console.log(
      `validated total ${validation.result.total}, invalid ${validation.result.invalidCount}; ` +
        `submitted rows ${submission.result.rowsWritten}, messages ${sent}; ` +
        `requests ${JSON.stringify(Object.fromEntries(counts))}`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
};

void main();
