import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgePublisher } from '../../../lambdas/adapters/eventbridge-publisher';
import { S3ResultStore } from '../../../lambdas/adapters/s3-result-store';
import { SqsMessageQueue } from '../../../lambdas/adapters/sqs-message-queue';
import {
  EventPublishError,
  QueueOperationError,
  ResultStoreError,
} from '../../../lambdas/domain/errors';

const detail = {
  runId: 'r1',
  total: 2,
  completed: 2,
  successful: 1,
  failed: 1,
  completedAt: 'now',
};

describe('SqsMessageQueue', () => {
  const sqs = mockClient(SQSClient);
  const queue = new SqsMessageQueue(
    new SQSClient({ region: 'us-east-1' }),
    'https://q/tasks',
    'https://q/dlq',
  );

  beforeEach(() => sqs.reset());

  it('changes visibility on the task queue by receipt handle', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    await queue.changeVisibility('rh-1', 42);

    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: 'https://q/tasks',
      ReceiptHandle: 'rh-1',
      VisibilityTimeout: 42,
    });
  });

  it('forwards poison to the dead-letter queue with the reason as an attribute', async () => {
    sqs.on(SendMessageCommand).resolves({});

    await queue.sendToDeadLetter('{bad', 'not JSON');

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'https://q/dlq',
      MessageBody: '{bad',
      MessageAttributes: {
        conveyorDeadLetterReason: { DataType: 'String', StringValue: 'not JSON' },
      },
    });
  });

  it('wraps SQS failures in QueueOperationError with the cause', async () => {
    const cause = new Error('ReceiptHandleIsInvalid');
    sqs.on(ChangeMessageVisibilityCommand).rejects(cause);

    await expect(queue.changeVisibility('rh-1', 1)).rejects.toMatchObject({
      name: 'QueueOperationError',
      cause,
    });
    await expect(queue.changeVisibility('rh-1', 1)).rejects.toBeInstanceOf(QueueOperationError);
  });
});

describe('S3ResultStore', () => {
  const s3 = mockClient(S3Client);

  beforeEach(() => s3.reset());

  it('puts the object under the given key with its content type', async () => {
    s3.on(PutObjectCommand).resolves({});

    await new S3ResultStore(new S3Client({ region: 'us-east-1' }), 'bucket').put(
      'results/r1/t1',
      Buffer.from('hi'),
      'text/html',
    );

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'bucket',
      Key: 'results/r1/t1',
      ContentType: 'text/html',
    });
  });

  it('names the key when the put fails', async () => {
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));

    const put = new S3ResultStore(new S3Client({ region: 'us-east-1' }), 'b').put(
      'k1',
      Buffer.from(''),
      undefined,
    );

    await expect(put).rejects.toBeInstanceOf(ResultStoreError);
    await expect(put).rejects.toThrow('Storing object k1 failed');
  });
});

describe('EventBridgePublisher', () => {
  const events = mockClient(EventBridgeClient);
  const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'bus');

  beforeEach(() => events.reset());

  it('publishes RunCompleted with the counts as detail', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });

    await publisher.publishRunCompleted(detail);

    expect(events).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        expect.objectContaining({
          EventBusName: 'bus',
          Source: 'conveyor',
          DetailType: 'RunCompleted',
        }),
      ],
    });
    const sent = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(JSON.parse(sent.Detail!)).toEqual(detail);
  });

  it('fails when EventBridge rejects the entry inside a successful response', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    const publish = publisher.publishRunCompleted(detail);

    await expect(publish).rejects.toBeInstanceOf(EventPublishError);
    await expect(publish).rejects.toThrow('InternalFailure: try again');
  });
});
