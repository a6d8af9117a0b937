/**
 * Errors of conveyor's domain. One class per failure mode, all under
 * {@link ConveyorError}, each carrying the ids a caller needs to act.
 */
export class ConveyorError extends Error {
  override readonly name: string = 'ConveyorError';
}

/** A message body that is not a task reference. It is poison: never retried. */
export class MalformedMessageError extends ConveyorError {
  override readonly name = 'MalformedMessageError';

  constructor(
    readonly reason: string,
    readonly body: string,
  ) {
    super(
      `Message body is not a task reference: ${reason}; received ${JSON.stringify(body.slice(0, 200))}`,
    );
  }
}

/** A message that names a task with no row. It is poison: never retried. */
export class UnknownTaskError extends ConveyorError {
  override readonly name = 'UnknownTaskError';

  constructor(
    readonly runId: string,
    readonly taskId: string,
  ) {
    super(`Task ${taskId} of run ${runId} does not exist`);
  }
}

/** A DynamoDB request failed in a way the protocol does not handle itself. */
export class TaskStoreError extends ConveyorError {
  override readonly name = 'TaskStoreError';

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A settle whose outcome stayed unknown after every retry. */
export class SettleOutcomeUnknownError extends ConveyorError {
  override readonly name = 'SettleOutcomeUnknownError';

  constructor(
    readonly runId: string,
    readonly taskId: string,
    attempts: number,
    options: { cause: unknown },
  ) {
    super(
      `Settling task ${taskId} of run ${runId} stayed unconfirmed after ${attempts} attempts`,
      options,
    );
  }
}

/** Input handed to submit or the CLI that cannot become a run. */
export class InvalidRunInputError extends ConveyorError {
  override readonly name: string = 'InvalidRunInputError';
}

/** An SQS request the worker depends on failed (visibility change, dead-letter forward). */
export class QueueOperationError extends ConveyorError {
  override readonly name = 'QueueOperationError';

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** Writing a result object (or a dead-letter archive) failed. */
export class ResultStoreError extends ConveyorError {
  override readonly name = 'ResultStoreError';

  constructor(
    readonly key: string,
    options: { cause: unknown },
  ) {
    super(`Storing object ${key} failed`, options);
  }
}

/** Publishing a run's completion event failed. */
export class EventPublishError extends ConveyorError {
  override readonly name = 'EventPublishError';

  constructor(
    readonly runId: string,
    detail: string,
    options?: { cause: unknown },
  ) {
    super(`Publishing the completion event of run ${runId} failed: ${detail}`, options);
  }
}
