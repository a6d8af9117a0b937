import type { Context, DynamoDBStreamEvent, SQSEvent, SQSRecord } from 'aws-lambda';

/** An SQS record shaped like the ones Lambda hands to a function. */
export const sqsRecord = (body: string, overrides: Partial<SQSRecord> = {}): SQSRecord => ({
  messageId: overrides.messageId ?? `m-${Math.random().toString(36).slice(2)}`,
  receiptHandle: overrides.receiptHandle ?? `rh-${Math.random().toString(36).slice(2)}`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tasks',
  awsRegion: 'us-east-1',
  ...overrides,
});

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

export const streamEvent = (...runIds: string[]): DynamoDBStreamEvent => ({
  Records: runIds.map((runId, index) => ({
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { runId: { S: runId }, sk: { S: 'SHARD#000' } },
      SequenceNumber: String(index),
    },
  })),
});

/** A Lambda context with a fixed remaining time. */
export const lambdaContext = (remainingMs = 60_000): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '512',
  awsRequestId: 'request-1',
  logGroupName: 'test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => remainingMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
