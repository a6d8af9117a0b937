import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { EXIT_CODE } from '../../cli/exit-codes';
import { demoPageKinds } from '../../local/demo-site';
import type { RunSummary } from '../../local/summary';
import { testEndpoint } from '../helpers/dynamodb';
import { runCliInProcess } from '../cli/helpers';

const DEMO_TASKS = 60;

describe('conveyor local run --demo', () => {
  it('runs the demo to completion, suppresses real redeliveries and reports every invariant holding', async () => {
    const missingPages = demoPageKinds(DEMO_TASKS).filter((kind) => kind === 'missing').length;

    const result = await runCliInProcess([
      'local',
      'run',
      '--demo',
      '--tasks',
      String(DEMO_TASKS),
      '--json',
      '--dynamodb-endpoint',
      testEndpoint(),
    ]);
    const summary = JSON.parse(result.stdout) as RunSummary & { ok: boolean };

    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(EXIT_CODE.ok);
    expect(summary).toMatchObject({
      ok: true,
      total: DEMO_TASKS,
      completed: DEMO_TASKS,
      successful: DEMO_TASKS - missingPages,
      failed: missingPages,
      deadLettered: 0,
      invariants: { countsAddUp: true, countersMatchRows: true, problems: [] },
    });
    expect(summary.redeliveries).toBeGreaterThan(0);
    expect(summary.suppressedDuplicates).toBeGreaterThan(0);
    expect(summary.leaseDeferrals).toBeGreaterThan(0);
    expect(summary.targetCalls).toBeGreaterThan(DEMO_TASKS);
  });

  it('exits 130 and stops when interrupted', async () => {
    const interruption = new AbortController();
    setTimeout(() => interruption.abort(), 1_500);

    const result = await runCliInProcess(
      ['local', 'run', '--demo', '--tasks', '200', '--dynamodb-endpoint', testEndpoint()],
      { signal: interruption.signal },
    );

    expect(result.exitCode).toBe(EXIT_CODE.interrupted);
    expect(result.stderr).toMatch(/Interrupted; run demo-\S+ stopped before it completed/);
  });

  it('runs as the package bin: --help from a spawned process', () => {
    const bin = join(__dirname, '..', '..', 'bin', 'conveyor.js');

    const spawned = spawnSync(process.execPath, [bin, 'local', 'run', '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(spawned.status).toBe(0);
    expect(spawned.stdout).toContain('--demo');
  });
});
