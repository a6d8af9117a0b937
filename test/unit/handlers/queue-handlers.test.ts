import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DEFAULT_WORKER_SETTINGS } from '../../../lambdas/domain/worker';
import { createDeadLetterHandler } from '../../../lambdas/handlers/dead-letter';
import { createFinalizerHandler } from '../../../lambdas/handlers/finalizer';
import { createWorkerHandler } from '../../../lambdas/handlers/worker';
import { lambdaContext, sqsEvent, sqsRecord, streamEvent } from '../../helpers/events';
import {
  CountingMetrics,
  fakeFetch,
  MemoryResultStore,
  quietLogger,
  RecordingPublisher,
  RecordingQueue,
} from '../../helpers/fakes';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const tables = { runs: 'runs', tasks: 'tasks' };
const base = {
  documentClient,
  tables,
  clock: Date.now,
  logger: quietLogger,
  metrics: new CountingMetrics(),
};
const body = JSON.stringify({ runId: 'r', taskId: 't1' });

describe('queue handlers when DynamoDB fails', () => {
  beforeEach(() => dynamo.reset());

  it('reports the worker message failed, so SQS delivers it again, and calls no target', async () => {
    dynamo
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const fetchPage = fakeFetch();
    const handler = createWorkerHandler({
      ...base,
      queue: new RecordingQueue(),
      results: new MemoryResultStore(),
      fetchPage,
      settings: DEFAULT_WORKER_SETTINGS,
    });

    const response = await handler(sqsEvent(sqsRecord(body, { messageId: 'm1' })), lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(fetchPage.calls).toEqual([]);
  });

  it('reports the dead-letter message failed instead of acknowledging it', async () => {
    dynamo.on(UpdateCommand).rejects(new Error('network down'));
    const archive = new MemoryResultStore();
    const handler = createDeadLetterHandler({ ...base, queue: new RecordingQueue(), archive });

    const response = await handler(sqsEvent(sqsRecord(body, { messageId: 'd1' })), lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'd1' }]);
    expect(archive.puts).toBe(0);
  });

  it('throws from the finalizer so the stream retries the batch', async () => {
    dynamo.on(QueryCommand).rejects(new Error('throttled'));
    const handler = createFinalizerHandler({ ...base, events: new RecordingPublisher() });

    await expect(handler(streamEvent('r'))).rejects.toThrow('Reading the progress of run r failed');
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'runs',
      ConsistentRead: true,
    });
  });
});
