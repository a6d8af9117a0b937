/**
 * Errors of the local runtime's emulations (queue, event source mapping,
 * stream poller). One class per failure mode, under the project's base class.
 */
import { ConveyorError } from '../lambdas/domain/errors';

/** An option or request parameter outside what the emulated service accepts. */
export class InvalidSettingError extends ConveyorError {
  override readonly name = 'InvalidSettingError';

  constructor(
    readonly setting: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(`${setting} must be ${rule}; received ${describeValue(value)}`);
  }
}

/**
 * A receipt handle this queue never issued (malformed, or from another queue).
 * SQS answers such a request with `ReceiptHandleIsInvalid`.
 */
export class ReceiptHandleInvalidError extends ConveyorError {
  override readonly name = 'ReceiptHandleInvalidError';

  constructor(
    readonly queueName: string,
    readonly receiptHandle: string,
  ) {
    super(
      `Receipt handle ${JSON.stringify(receiptHandle.slice(0, 80))} was not issued by queue ${queueName}`,
    );
  }
}

/** Work was still going on when a wait for idleness ran out of time. */
export class DrainTimeoutError extends ConveyorError {
  override readonly name = 'DrainTimeoutError';

  constructor(
    readonly timeoutMs: number,
    readonly pending: string,
  ) {
    super(`Still busy after ${timeoutMs} ms: ${pending}`);
  }
}

/** The deprecated callback methods of a Lambda context, which the local runtime does not offer. */
export class UnsupportedContextMethodError extends ConveyorError {
  override readonly name = 'UnsupportedContextMethodError';

  constructor(readonly method: string) {
    super(`context.${method}() is not supported locally; return or throw from the async handler`);
  }
}

const describeValue = (value: unknown): string => {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) {
    return String(value);
  }

  return JSON.stringify(value)?.slice(0, 200) ?? String(value);
};

/** Messages a sender could not enqueue. */
export class MessageSendFailedError extends ConveyorError {
  override readonly name = 'MessageSendFailedError';

  constructor(
    readonly queueName: string,
    readonly failedCount: number,
    readonly firstReason: string,
  ) {
    super(`${failedCount} message(s) could not be sent to queue ${queueName}: ${firstReason}`);
  }
}
