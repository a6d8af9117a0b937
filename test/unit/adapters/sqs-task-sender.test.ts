import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsTaskSender, TaskSendError } from '../../../lambdas/adapters/sqs-task-sender';
import { taskIdForPosition, type TaskKey } from '../../../lambdas/domain/schema';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks';

const sqs = mockClient(SQSClient);

const tasksOf = (count: number): TaskKey[] =>
  Array.from({ length: count }, (_, position) => ({
    runId: 'run-1',
    taskId: taskIdForPosition(position),
  }));

const allSucceeded = (input: { Entries?: { Id?: string }[] }) => ({
  Successful: (input.Entries ?? []).map((entry) => ({
    Id: entry.Id,
    MessageId: `m-${entry.Id}`,
    MD5OfMessageBody: 'x',
  })),
  Failed: [],
});

const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
};

describe('SqsTaskSender', () => {
  let waits: number[];
  let sender: SqsTaskSender;

  beforeEach(() => {
    sqs.reset();
    waits = [];
    sender = new SqsTaskSender({
      client: new SQSClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
      queueUrl: QUEUE_URL,
      retryPolicy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
  });

  const sentEntries = () =>
    sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);

  it('sends ten messages a request, each body the task key as JSON', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(allSucceeded);

    await sender.sendTasks(tasksOf(23));

    expect(sentEntries().map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(sentEntries()[2]).toEqual([
      { Id: '0', MessageBody: '{"runId":"run-1","taskId":"t000000020"}' },
      { Id: '1', MessageBody: '{"runId":"run-1","taskId":"t000000021"}' },
      { Id: '2', MessageBody: '{"runId":"run-1","taskId":"t000000022"}' },
    ]);
  });

  it('sends again only the entries that failed without a sender fault', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [0, 1, 2, 4].map((id) => ({
          Id: String(id),
          MessageId: `m-${id}`,
          MD5OfMessageBody: 'x',
        })),
        Failed: [{ Id: '3', SenderFault: false, Code: 'InternalError' }],
      })
      .callsFake(allSucceeded);

    await sender.sendTasks(tasksOf(5));

    expect(sentEntries()[1]).toEqual([
      { Id: '3', MessageBody: '{"runId":"run-1","taskId":"t000000003"}' },
    ]);
    expect(waits).toEqual([50]);
  });

  it('throws TaskSendError naming the task and code of a sender fault, without retrying', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm-0', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: '1', SenderFault: true, Code: 'InvalidMessageContents' }],
    });

    const error = await rejectionOf(sender.sendTasks(tasksOf(2)));

    expect(error).toBeInstanceOf(TaskSendError);
    expect(error.message).toMatch(/run-1\/t000000001 \(InvalidMessageContents, sender fault\)/);
    expect((error as TaskSendError).failures).toEqual([
      {
        task: { runId: 'run-1', taskId: 't000000001' },
        code: 'InvalidMessageContents',
        senderFault: true,
      },
    ]);
    expect(sentEntries()).toHaveLength(1);
  });

  it('throws TaskSendError once retries of a failing entry run out', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', SenderFault: false, Code: 'ServiceUnavailable' }],
    });

    const error = await rejectionOf(sender.sendTasks(tasksOf(1)));

    expect(error).toBeInstanceOf(TaskSendError);
    expect(error.message).toMatch(
      /Could not enqueue 1 task messages: run-1\/t000000000 \(ServiceUnavailable\)/,
    );
    expect(sentEntries()).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
  });

  it('treats an entry reported neither successful nor failed as not sent', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: '0', MessageId: 'm-0', MD5OfMessageBody: 'x' }] })
      .callsFake(allSucceeded);

    await sender.sendTasks(tasksOf(2));

    expect(sentEntries()[1]?.map((entry) => entry.Id)).toEqual(['1']);
  });

  it('rewraps a request the SDK gave up on, naming every task of the batch', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sqs.on(SendMessageBatchCommand).callsFake(allSucceeded);
    sqs.on(SendMessageBatchCommand).rejectsOnce(throttled).callsFake(allSucceeded);

    const error = await rejectionOf(sender.sendTasks(tasksOf(12)));

    expect(error).toBeInstanceOf(TaskSendError);
    expect(error.cause).toBe(throttled);
    const failedIds = (error as TaskSendError).failures.map((failure) => failure.task.taskId);
    expect(failedIds).toHaveLength(10);
    expect(new Set((error as TaskSendError).failures.map((failure) => failure.code))).toEqual(
      new Set(['ThrottlingException']),
    );
    expect(sentEntries()).toHaveLength(2);
  });
});
