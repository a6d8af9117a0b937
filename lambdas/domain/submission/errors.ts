/**
 * Failure modes of run submission. Input errors (a request out of range, a
 * re-submission that differs, a source that changed) extend
 * `InvalidRunInputError`; anything else that stops a submission part way
 * reaches the caller as {@link SubmitIncompleteError}, which a re-run cures.
 */
import { ConveyorError, InvalidRunInputError } from '../errors';
import type { SubmitProgress } from './types';

/** A submit request field outside its allowed range. */
export class InvalidSubmitRequestError extends InvalidRunInputError {
  override readonly name = 'InvalidSubmitRequestError';

  constructor(
    readonly setting: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(`${setting} ${rule}; got ${JSON.stringify(value)}`);
  }
}

/** One way a re-submission differs from what the run already holds. */
export interface RunDifference {
  readonly field: string;
  readonly existing: unknown;
  readonly requested: unknown;
}

/** The run id exists with another total, shard count, or other URLs at the same positions. */
export class RunMismatchError extends InvalidRunInputError {
  override readonly name = 'RunMismatchError';

  constructor(
    readonly runId: string,
    readonly differences: readonly RunDifference[],
  ) {
    const listed = differences
      .map(
        (difference) =>
          `${difference.field} is ${JSON.stringify(difference.existing)} in the run but ` +
          `${JSON.stringify(difference.requested)} in this submission`,
      )
      .join('; ');
    super(
      `Run ${runId} was already submitted with other input: ${listed}. ` +
        'Resubmit the same input to resume it, or choose a new run id.',
    );
  }
}

/** The source yielded another number of tasks than the request's `total`. */
export class SourceCountMismatchError extends InvalidRunInputError {
  override readonly name = 'SourceCountMismatchError';

  /**
   * @param received tasks the source yielded; with `complete` false it stopped
   *   being read there, so it holds at least that many.
   */
  constructor(
    readonly runId: string,
    readonly total: number,
    readonly received: number,
    readonly complete: boolean,
  ) {
    super(
      `The input of run ${runId} yielded ${complete ? '' : 'at least '}${received} tasks but ` +
        `total is ${total}; it changed after it was validated. Validate it again and resubmit; ` +
        'the run stays in "submitting" until a submission matches.',
    );
  }
}

/** The run's meta item vanished while the run was being submitted. */
export class RunMetaMissingError extends ConveyorError {
  override readonly name = 'RunMetaMissingError';

  constructor(readonly runId: string) {
    super(
      `The meta item of run ${runId} was deleted during its submission; ` +
        'its task rows may remain, so submit the input again under a new run id.',
    );
  }
}

/** A batch request whose unprocessed part was still left after every retry. */
export class BatchRetriesExhaustedError extends ConveyorError {
  override readonly name = 'BatchRetriesExhaustedError';

  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly remaining: number,
  ) {
    super(`${operation} left ${remaining} items unprocessed after ${attempts} attempts`);
  }
}

/** Submission stopped part way; submitting the same run again resumes it. */
export class SubmitIncompleteError extends ConveyorError {
  override readonly name = 'SubmitIncompleteError';

  constructor(
    readonly runId: string,
    readonly progress: SubmitProgress,
    options: { cause: unknown },
  ) {
    super(
      `Submission of run ${runId} stopped with ${progress.written} of ${progress.total} task rows ` +
        `stored and ${progress.sent} messages sent: ${messageOf(options.cause)}. Run the same ` +
        'command again to resume: it writes only the missing rows and never overwrites a task ' +
        'that has moved on.',
      options,
    );
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
