/**
 * The local state folder, `.conveyor/` in the working directory (git-ignored):
 * the results of local runs, and with `local run --keep-state` DynamoDB
 * Local's data, so `status`, `results` and `audit` work after the run exited.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_DIR_NAME = '.conveyor';

export interface LocalStatePaths {
  readonly root: string;
  /** DynamoDB Local's database file lives here. */
  readonly dynamoDbDir: string;
  /** Result objects, under the same keys as in the results bucket. */
  readonly resultsDir: string;
}

export const localStatePaths = (cwd: string): LocalStatePaths => {
  const root = join(cwd, STATE_DIR_NAME);

  return { root, dynamoDbDir: join(root, 'dynamodb'), resultsDir: join(root, 'results') };
};

/** Creates the results folder, and the database folder when asked, if missing. */
export const ensureLocalState = async (
  paths: LocalStatePaths,
  options: { readonly withDatabase: boolean },
): Promise<void> => {
  await mkdir(paths.resultsDir, { recursive: true });
  if (options.withDatabase) await mkdir(paths.dynamoDbDir, { recursive: true });
};

/** Whether a local run has left a database behind. */
export const hasLocalState = (paths: LocalStatePaths): boolean => existsSync(paths.dynamoDbDir);
