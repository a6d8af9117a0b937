import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileResultStore } from '../../../lambdas/adapters/fs-result-store';
import { ResultStoreError } from '../../../lambdas/domain/errors';

describe('FileResultStore', () => {
  it('writes the object at its key and a duplicate replaces it, leaving no temporary files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'conveyor-results-'));
    const store = new FileResultStore(root);

    await store.put('results/r1/t1', Buffer.from('first'));
    await store.put('results/r1/t1', Buffer.from('second'));

    expect(await readFile(join(root, 'results/r1/t1'), 'utf8')).toBe('second');
    expect(await readdir(join(root, 'results/r1'))).toEqual(['t1']);
  });

  it('refuses a key that would leave the results folder', async () => {
    const store = new FileResultStore(await mkdtemp(join(tmpdir(), 'conveyor-results-')));

    await expect(store.put('../escape', Buffer.from('x'))).rejects.toBeInstanceOf(ResultStoreError);
  });
});
