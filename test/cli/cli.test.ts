import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODE } from '../../cli/exit-codes';
import { runCliInProcess } from './helpers';

const inputFile = async (name: string, content: string) => {
  const folder = await mkdtemp(join(tmpdir(), 'conveyor-input-'));
  const path = join(folder, name);
  await writeFile(path, content);

  return path;
};

describe('conveyor CLI', () => {
  it('prints help listing every command and exits 0', async () => {
    const result = await runCliInProcess(['--help']);

    expect(result.exitCode).toBe(EXIT_CODE.ok);
    for (const command of ['local', 'submit', 'status', 'results', 'audit']) {
      expect(result.stdout).toContain(command);
    }
  });

  it.each(['local run', 'submit', 'status', 'results', 'audit'])(
    'prints help for %s',
    async (command) => {
      const result = await runCliInProcess([...command.split(' '), '--help']);

      expect(result.exitCode).toBe(EXIT_CODE.ok);
      expect(result.stdout).toMatch(/^Usage: conveyor /);
    },
  );

  it('rejects an input file with its invalid lines numbered, before starting anything', async () => {
    const file = await inputFile(
      'urls.txt',
      'https://example.com/a\nnot a url\nhttps://example.com/b\nftp://example.com/c\n',
    );

    const result = await runCliInProcess(['local', 'run', file]);

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch(/2 invalid lines/);
    expect(result.stderr).toMatch(/line 2: .*"not a url"/);
    expect(result.stderr).toMatch(/line 4: .*"ftp:\/\/example.com\/c"/);
    expect(result.stderr).not.toMatch(/line [13]:/);
  });

  it('rejects a CSV input without a url column', async () => {
    const file = await inputFile('tasks.csv', 'id,address\n1,https://example.com/a\n');

    const result = await runCliInProcess(['submit', file, '--stack', 'anything']);

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch(/"url" column/);
  });

  it('refuses a run with neither FILE nor --demo', async () => {
    const result = await runCliInProcess(['local', 'run']);

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch(/FILE or --demo must be given/);
  });

  it('refuses a malformed number with the option and the value received', async () => {
    const result = await runCliInProcess(['local', 'run', '--demo', '--tasks', 'many']);

    expect(result.exitCode).toBe(EXIT_CODE.usage);
    expect(result.stderr).toMatch(/--tasks <n>.*"many"/);
  });

  it('says how to create local state when status finds none', async () => {
    const result = await runCliInProcess(['status', 'some-run']);

    expect(result.exitCode).toBe(EXIT_CODE.failed);
    expect(result.stderr).toMatch(/No local database .*--keep-state/);
  });
});
