/**
 * Failures of the local pipeline and the CLI's local mode. One class per
 * failure mode, under the project's base class.
 */
import { ConveyorError } from '../lambdas/domain/errors';
import type { RunProgress } from '../lambdas/domain/progress';

/** A run did not complete within the time waited for it; carries the progress so far. */
export class RunWaitTimeoutError extends ConveyorError {
  override readonly name = 'RunWaitTimeoutError';

  constructor(
    readonly runId: string,
    readonly timeoutMs: number,
    readonly progress: RunProgress,
  ) {
    const { completed, total } = progress.counters;
    super(
      `Run ${runId} did not complete within ${timeoutMs} ms: ${completed} of ${total} tasks ` +
        `completed, status ${progress.meta?.status ?? 'unknown (no run meta item)'}`,
    );
  }
}
