import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ENV } from '../../../lambdas/config';
import { lambdaContext, sqsEvent, sqsRecord, streamEvent } from '../../helpers/events';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

const environment = {
  [ENV.runsTable]: 'runs-table',
  [ENV.tasksTable]: 'tasks-table',
  [ENV.taskQueueUrl]: 'https://sqs.example/tasks',
  [ENV.deadLetterQueueUrl]: 'https://sqs.example/dlq',
  [ENV.resultsBucket]: 'results-bucket',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

describe('Lambda entry points, wired from the environment the stack sets', () => {
  beforeAll(() => Object.assign(process.env, environment));

  afterAll(() => {
    for (const name of Object.keys(environment)) delete process.env[name];
  });

  beforeEach(() => {
    dynamo.reset();
    sqs.reset();
  });

  it('the worker claims on the tasks table and defers a duplicate behind a live lease', async () => {
    const { handler } = await import('../../../lambdas/handlers/worker');
    dynamo.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'held',
        $metadata: {},
        Item: marshall({ status: 'processing', leaseExpiresAt: Date.now() + 10_000 }),
      }),
    );
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    const response = await handler(
      sqsEvent(
        sqsRecord(JSON.stringify({ runId: 'r', taskId: 't' }), {
          messageId: 'm1',
          receiptHandle: 'rh1',
        }),
      ),
      lambdaContext(),
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, { TableName: 'tasks-table' });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: 'https://sqs.example/tasks',
      ReceiptHandle: 'rh1',
    });
  });

  it('the finalizer reads progress from the runs table', async () => {
    const { handler } = await import('../../../lambdas/handlers/finalizer');
    dynamo.on(QueryCommand).resolves({ Items: [] });

    await handler(streamEvent('r'), lambdaContext());

    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'runs-table',
      ConsistentRead: true,
    });
  });
});
