import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../lib/pipeline-function';
import { STACK_OUTPUT } from '../../lib/stack-outputs';

const run = promisify(execFile);

/**
 * What `cdk synth` runs (the app in cdk.json), with real esbuild bundling of
 * the three handlers and the cdk-nag packs on, but without the CDK CLI's own
 * start-up. Offline by construction: nothing here reaches AWS.
 */
describe('bin/app.ts', () => {
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'conveyor-app-'));
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes the stack, bundling every handler, with no cdk-nag finding', async () => {
    await run(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ stackName: 'AppTest', alarmEmail: 'ops@example.com' }),
      },
    });

    const template = JSON.parse(readFileSync(join(outdir, 'AppTest.template.json'), 'utf8'));
    const assets = JSON.parse(readFileSync(join(outdir, 'AppTest.assets.json'), 'utf8'));
    const bundles = Object.values(assets.files as Record<string, { source: { path: string } }>)
      .map(({ source }) => join(outdir, source.path, 'index.js'))
      .filter((bundle) => existsSync(bundle));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions).toHaveLength(3);
    expect(bundles).toHaveLength(3);
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(Object.values(STACK_OUTPUT)),
    );
  }, 60_000);
});
