import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Backend } from '../../cli/backend';
import { EXIT_CODE } from '../../cli/exit-codes';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { counterShardKey } from '../../lambdas/domain/schema';
import { gatewayFailure } from '../helpers/fakes';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline';
import { createTestDatabase, type TestDatabase } from '../helpers/dynamodb';
import { runCliInProcess } from './helpers';

const RUN_ID = 'finished-run';

describe('status, results and audit on a finished run', () => {
  let database: TestDatabase;
  let pipeline: LocalPipeline;
  const openBackend = async (): Promise<Backend> => ({
    description: 'the test database',
    documentClient: database.documentClient,
    tables: database.tables,
    sender: undefined,
    resultLocation: (key) => `/results/${key}`,
    close: async () => undefined,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    pipeline = await startLocalPipeline({
      dynamoDbEndpoint: database.endpoint,
      tables: database.tables,
      fetchPage: async (url) => {
        if (url.includes('missing')) throw gatewayFailure('404 Not Found', false);
        return { status: 200, body: Buffer.from('page'), finalUrl: url };
      },
    });
    const urls = ['ok/1', 'missing/2', 'ok/3', 'ok/4'].map((path) => `http://example.com/${path}`);
    await pipeline.submit(
      RUN_ID,
      urls.map((url, index) => ({ url, line: index + 1 })),
    );
    await pipeline.waitForRun(RUN_ID, { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await pipeline.stop();
    database.close();
  });

  it('status prints the completed run and its counters', async () => {
    const result = await runCliInProcess(['status', RUN_ID], { openBackend });

    expect(result.exitCode).toBe(EXIT_CODE.ok);
    expect(result.stdout).toMatch(`Run ${RUN_ID}: completed`);
    expect(result.stdout).toMatch('4 total, 4 completed (3 successful, 1 failed), 0 to go');
  });

  it('results --failed lists only the failed task, with its error', async () => {
    const result = await runCliInProcess(['results', RUN_ID, '--failed', '--json'], {
      openBackend,
    });

    expect(result.exitCode).toBe(EXIT_CODE.ok);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        status: 'failed',
        url: 'http://example.com/missing/2',
        error: expect.stringContaining('404 Not Found'),
      }),
    ]);
  });

  it('results lists every task with where its page is stored', async () => {
    const result = await runCliInProcess(['results', RUN_ID], { openBackend });
    const lines = result.stdout.trim().split('\n');

    expect(lines).toHaveLength(4);
    expect(lines.filter((line) => line.includes(`/results/results/${RUN_ID}/`))).toHaveLength(3);
  });

  it('audit passes while counters equal the task rows, and fails with exit 3 when they do not', async () => {
    const before = await runCliInProcess(['audit', RUN_ID], { openBackend });
    await database.documentClient.send(
      new UpdateCommand({
        TableName: database.tables.runs,
        Key: counterShardKey(RUN_ID, 0),
        UpdateExpression: 'ADD successful :one, completed :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const after = await runCliInProcess(['audit', RUN_ID], { openBackend });

    expect(before.exitCode).toBe(EXIT_CODE.ok);
    expect(before.stdout).toMatch('every invariant holds');
    expect(after.exitCode).toBe(EXIT_CODE.invariantBroken);
    expect(after.stdout).toMatch(/successful rows \(3\) != successful counter \(4\)/);
  });

  it('status says when a run does not exist', async () => {
    const result = await runCliInProcess(['status', 'no-such-run'], { openBackend });

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch('Run no-such-run was not found in the test database');
  });
});

describe('local run --dynamodb-port', () => {
  it('says a busy port is in use', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;

    const result = await runCliInProcess([
      'local',
      'run',
      '--demo',
      '--tasks',
      '1',
      '--dynamodb-port',
      String(port),
    ]);
    server.close();

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch(new RegExp(`Port ${port} is already in use`));
  });
});
