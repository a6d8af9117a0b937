import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueueOperationError } from '../domain/errors';
import type { MessageQueue } from '../domain/ports';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../domain/task-message';

/** The worker's queue operations on SQS: visibility on its own queue, poison to the DLQ. */
export class SqsMessageQueue implements MessageQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl?: string,
  ) {}

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      throw new QueueOperationError(`Changing a message's visibility to ${seconds} s failed`, {
        cause: error,
      });
    }
  }

  async sendToDeadLetter(body: string, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) {
      throw new QueueOperationError('No dead-letter queue is configured for poison messages', {
        cause: undefined,
      });
    }
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.deadLetterQueueUrl,
          MessageBody: body,
          MessageAttributes: {
            [DEAD_LETTER_REASON_ATTRIBUTE]: {
              DataType: 'String',
              StringValue: reason.slice(0, 1_000),
            },
          },
        }),
      );
    } catch (error) {
      throw new QueueOperationError('Forwarding a poison message to the dead-letter queue failed', {
        cause: error,
      });
    }
  }
}
