import { openBackend, type Backend } from '../backend';
import type { CliIo } from '../io';

/** Options every run-store command takes. */
export interface TargetOptions {
  /** A deployed stack's name; without it, the local state in `.conveyor/`. */
  readonly stack?: string;
  /** Port of the DynamoDB Local started on the local state. */
  readonly dynamodbPort?: number;
  /** Print JSON for scripts instead of text. */
  readonly json?: boolean;
}

/** Opens the run store the options name, runs `work` on it, and always closes it. */
export const withBackend = async <T>(
  options: TargetOptions,
  io: CliIo,
  work: (backend: Backend) => Promise<T>,
): Promise<T> => {
  const open = io.openBackend ?? openBackend;
  const backend = await open({ stack: options.stack, dynamoDbPort: options.dynamodbPort }, io.cwd);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
};
