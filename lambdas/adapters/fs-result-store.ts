import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ResultStoreError } from '../domain/errors';
import type { ResultStore } from '../domain/ports';

/**
 * Results in a local folder, for local mode: the same keys as in S3, as paths.
 * Writes go to a temporary file first and are renamed into place, so a reader
 * never sees half an object and a duplicate simply replaces it.
 */
export class FileResultStore implements ResultStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) {
      throw new ResultStoreError(key, { cause: new Error('the key leaves the results folder') });
    }
    try {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(temporary, body);
      await rename(temporary, path);
    } catch (error) {
      throw new ResultStoreError(key, { cause: error });
    }
  }
}
