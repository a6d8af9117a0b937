import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ConveyorError } from '../domain/errors';
import type { DomainLogger } from '../domain/ports';
import { MESSAGE_OUTCOME, type MessageOutcome } from '../domain/worker';

/**
 * Reported for a message whose visibility the handler already set, so SQS
 * brings it back at that time instead of deleting it. Not a fault.
 */
export class MessageDeferredError extends ConveyorError {
  override readonly name = 'MessageDeferredError';

  constructor(readonly messageId: string) {
    super(`Message ${messageId} was deferred and will be delivered again`);
  }
}

/**
 * Runs `processMessage` over every record of an SQS batch in parallel and
 * shapes a partial batch response: only acknowledged messages are deleted.
 * A message whose processing threw is reported failed too, so SQS delivers it
 * again after its visibility timeout; nothing is dropped.
 */
export const processQueueBatch = (
  event: SQSEvent,
  context: Context,
  logger: DomainLogger,
  processMessage: (record: SQSRecord) => Promise<MessageOutcome>,
): Promise<SQSBatchResponse> => {
  const handleRecord = async (record: SQSRecord) => {
    let outcome: MessageOutcome;
    try {
      outcome = await processMessage(record);
    } catch (error) {
      logger.error('Message processing failed; it will be delivered again', {
        messageId: record.messageId,
        error,
      });
      throw error;
    }
    if (outcome === MESSAGE_OUTCOME.retryLater) throw new MessageDeferredError(record.messageId);
  };

  return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
    context,
    throwOnFullBatchFailure: false,
    processInParallel: true,
  });
};

/** How many times SQS has delivered the record, from its attributes. */
export const receiveCountOf = (record: SQSRecord): number =>
  Number(record.attributes.ApproximateReceiveCount ?? 1);
