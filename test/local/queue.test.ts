import {
  InvalidSettingError,
  MessageSendFailedError,
  ReceiptHandleInvalidError,
} from '../../local/errors';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../../lambdas/domain/task-message';
import {
  LocalQueue,
  messageQueuePort,
  taskSenderPort,
  type LocalQueueOptions,
} from '../../local/queue';
import { manualClock } from './helpers';

const VISIBILITY_SECONDS = 0.1;

const createQueue = (clock: () => number, options: Partial<LocalQueueOptions> = {}) =>
  new LocalQueue({
    name: 'tasks',
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    clock,
    ...options,
  });

const receiveOne = async (queue: LocalQueue) => {
  const records = await queue.receiveMessages(1);
  expect(records).toHaveLength(1);

  return records[0]!;
};

describe('LocalQueue', () => {
  it('hides a received message for the visibility timeout and shows it again afterwards', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');

    const first = await queue.receiveMessages(10);
    clock.advance(99);
    const whileHidden = await queue.receiveMessages(10);
    clock.advance(1);
    const afterExpiry = await queue.receiveMessages(10);

    expect(first.map((record) => record.body)).toEqual(['task-1']);
    expect(whileHidden).toEqual([]);
    expect(afterExpiry.map((record) => record.body)).toEqual(['task-1']);
    expect(afterExpiry[0]?.messageId).toBe(first[0]?.messageId);
  });

  it('increments the receive count and keeps the first receive time on every delivery', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');

    const counts: string[] = [];
    const firstReceived: string[] = [];
    for (let receive = 0; receive < 3; receive++) {
      const record = await receiveOne(queue);
      counts.push(record.attributes.ApproximateReceiveCount);
      firstReceived.push(record.attributes.ApproximateFirstReceiveTimestamp);
      clock.advance(100);
    }

    expect(counts).toEqual(['1', '2', '3']);
    expect(new Set(firstReceived)).toEqual(new Set([String(clock.start)]));
  });

  it('shapes records like the ones Lambda receives from SQS', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now, { region: 'eu-west-1' });
    queue.sendMessage('hello', {
      messageAttributes: { origin: { dataType: 'String', stringValue: 'test' } },
    });

    const record = await receiveOne(queue);

    expect(record).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receiptHandle: expect.any(String),
      body: 'hello',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(clock.start),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: String(clock.start),
      },
      messageAttributes: {
        origin: {
          dataType: 'String',
          stringValue: 'test',
          stringListValues: [],
          binaryListValues: [],
        },
      },
      md5OfBody: '5d41402abc4b2a76b9719d911017c592',
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:tasks',
      awsRegion: 'eu-west-1',
    });
  });

  it('moves a message to the dead-letter queue at the receive that would exceed maxReceiveCount', async () => {
    const clock = manualClock();
    const deadLetter = createQueue(clock.now, { name: 'tasks-dlq' });
    const queue = createQueue(clock.now, {
      redrivePolicy: { queue: deadLetter, maxReceiveCount: 2 },
    });
    const { messageId } = queue.sendMessage('task-1');

    const first = await queue.receiveMessages(10);
    clock.advance(100);
    const second = await queue.receiveMessages(10);
    clock.advance(100);
    const third = await queue.receiveMessages(10);
    const deadLettered = await receiveOne(deadLetter);

    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(third).toEqual([]);
    expect(queue.isEmpty()).toBe(true);
    expect(queue.stats().redriven).toBe(1);
    expect(deadLettered.messageId).toBe(messageId);
    expect(deadLettered.body).toBe('task-1');
    expect(deadLettered.attributes.ApproximateReceiveCount).toBe('1');
    expect(deadLettered.attributes.DeadLetterQueueSourceArn).toBe(queue.arn);
  });

  it('ignores a stale receipt handle instead of deleting the copy received since', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');
    const slowWorker = await receiveOne(queue);
    clock.advance(100);
    const secondWorker = await receiveOne(queue);

    const staleDelete = queue.deleteMessage(slowWorker.receiptHandle);
    const staleChange = queue.changeMessageVisibility(slowWorker.receiptHandle, 0);

    expect(staleDelete).toBe('stale');
    expect(staleChange).toBe('stale');
    expect(queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(queue.deleteMessage(secondWorker.receiptHandle)).toBe('applied');
    expect(queue.isEmpty()).toBe(true);
    expect(queue.stats()).toMatchObject({ staleReceiptHandles: 2, deleted: 1 });
  });

  it('deletes with the latest receipt handle even after the visibility timeout expired', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');
    const record = await receiveOne(queue);
    clock.advance(500);

    const outcome = queue.deleteMessage(record.receiptHandle);

    expect(outcome).toBe('applied');
    expect(queue.isEmpty()).toBe(true);
  });

  it('rejects a receipt handle the queue never issued', () => {
    const queue = createQueue(manualClock().now);
    const otherQueue = new LocalQueue({ name: 'other' });

    expect(() => queue.deleteMessage('not-a-handle')).toThrow(ReceiptHandleInvalidError);
    expect(() =>
      otherQueue.deleteMessage(Buffer.from('tasks\n1\n1').toString('base64url')),
    ).toThrow(ReceiptHandleInvalidError);
  });

  it('makes a message visible at once with a visibility change to 0', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');
    const record = await receiveOne(queue);

    const outcome = queue.changeMessageVisibility(record.receiptHandle, 0);
    const again = await queue.receiveMessages(1);

    expect(outcome).toBe('applied');
    expect(again.map((received) => received.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });

  it('hides a message for the given seconds from now with a visibility change', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');
    const record = await receiveOne(queue);
    clock.advance(50);

    queue.changeMessageVisibility(record.receiptHandle, 0.5);
    clock.advance(499);
    const stillHidden = await queue.receiveMessages(1);
    clock.advance(1);
    const visible = await queue.receiveMessages(1);

    expect(stillHidden).toEqual([]);
    expect(visible).toHaveLength(1);
    expect(queue.stats().visibilityChanges).toBe(1);
  });

  it('refuses a visibility change for a message whose visibility already expired', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('task-1');
    const record = await receiveOne(queue);
    clock.advance(100);

    const outcome = queue.changeMessageVisibility(record.receiptHandle, 60);

    expect(outcome).toBe('not-in-flight');
    expect(queue.depth().visible).toBe(1);
  });

  it('keeps a delayed message hidden until its delay has passed', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now);
    queue.sendMessage('later', { delaySeconds: 0.05 });
    queue.sendMessage('now');

    const first = await queue.receiveMessages(10);
    const depth = queue.depth();
    clock.advance(50);
    const second = await queue.receiveMessages(10);

    expect(first.map((record) => record.body)).toEqual(['now']);
    expect(depth).toEqual({ visible: 0, inFlight: 1, delayed: 1 });
    expect(second.map((record) => record.body)).toEqual(['later']);
  });

  it('waits for a message to arrive when long polling', async () => {
    const queue = new LocalQueue({ name: 'tasks' });
    setTimeout(() => queue.sendMessage('arrives-later'), 30);

    const records = await queue.receiveMessages(1, 5_000);

    expect(records.map((record) => record.body)).toEqual(['arrives-later']);
  });

  it('returns empty from a long poll when its signal aborts', async () => {
    const queue = new LocalQueue({ name: 'tasks' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);

    const records = await queue.receiveMessages(1, 20_000, controller.signal);

    expect(records).toEqual([]);
  });

  it('hands an injected duplicate to a second consumer while the first holds the message', async () => {
    const clock = manualClock();
    const queue = createQueue(clock.now, { duplicateRate: 1 });
    queue.sendMessage('task-1');

    const first = await receiveOne(queue);
    const second = await receiveOne(queue);
    const deleted = queue.deleteMessage(first.receiptHandle);
    const third = await queue.receiveMessages(1);

    expect(second.messageId).toBe(first.messageId);
    expect(second.receiptHandle).not.toBe(first.receiptHandle);
    expect(second.attributes.ApproximateReceiveCount).toBe('1');
    expect(deleted).toBe('applied');
    expect(third).toEqual([]);
    expect(queue.depth().inFlight).toBe(1);
    expect(queue.stats()).toMatchObject({ duplicatesInjected: 1, deliveries: 2 });
  });

  it('injects the same duplicates for the same seed and different ones for another seed', async () => {
    const deliveredBodies = async (seed: number) => {
      const clock = manualClock();
      const queue = createQueue(clock.now, { duplicateRate: 0.3, seed });
      for (let index = 0; index < 40; index++) queue.sendMessage(`task-${index}`);
      const bodies: string[] = [];
      for (let batch = await queue.receiveMessages(10); batch.length > 0;) {
        bodies.push(...batch.map((record) => record.body));
        batch = await queue.receiveMessages(10);
      }

      return { bodies, duplicates: queue.stats().duplicatesInjected };
    };

    const first = await deliveredBodies(7);
    const replay = await deliveredBodies(7);
    const otherSeed = await deliveredBodies(8);

    expect(first.duplicates).toBeGreaterThan(0);
    expect(first.bodies).toHaveLength(40 + first.duplicates);
    expect(replay).toEqual(first);
    expect(otherSeed.bodies).not.toEqual(first.bodies);
  });

  it('sends a batch and reports a malformed entry without failing the others', async () => {
    const queue = createQueue(manualClock().now);

    const result = queue.sendMessageBatch([
      { id: 'a', body: 'first' },
      { id: 'b', body: '' },
      { id: 'c', body: 'third', delaySeconds: 1_000 },
    ]);

    expect(result.successful.map((entry) => entry.id)).toEqual(['a']);
    expect(result.failed).toEqual([
      { id: 'b', code: 'InvalidParameterValue', message: expect.stringContaining('MessageBody') },
      { id: 'c', code: 'InvalidParameterValue', message: expect.stringContaining('DelaySeconds') },
    ]);
    expect(() => queue.sendMessageBatch([])).toThrow(/Entries\.length/);
    expect(() =>
      queue.sendMessageBatch([
        { id: 'x', body: '1' },
        { id: 'x', body: '2' },
      ]),
    ).toThrow(/distinct/);
  });

  it('names the setting and the value received when an option is out of range', () => {
    const build = () => new LocalQueue({ name: 'tasks', visibilityTimeoutSeconds: -1 });

    expect(build).toThrow(InvalidSettingError);
    expect(build).toThrow('visibilityTimeoutSeconds must be a number from 0 to 43200; received -1');
    expect(() => new LocalQueue({ name: 'bad name' })).toThrow(/name/);
  });
});

describe('messageQueuePort', () => {
  it('changes visibility on whichever queue issued the receipt handle', async () => {
    const clock = manualClock();
    const deadLetter = createQueue(clock.now, { name: 'tasks-dlq' });
    const queue = createQueue(clock.now);
    const port = messageQueuePort(queue, deadLetter);
    queue.sendMessage('task');
    deadLetter.sendMessage('poison');
    const task = await receiveOne(queue);
    const poison = await receiveOne(deadLetter);

    await port.changeVisibility(task.receiptHandle, 0);
    await port.changeVisibility(poison.receiptHandle, 0);

    expect(queue.depth().visible).toBe(1);
    expect(deadLetter.depth().visible).toBe(1);
  });

  it('sends a poison message to the dead-letter queue with its reason', async () => {
    const deadLetter = new LocalQueue({ name: 'tasks-dlq' });
    const port = messageQueuePort(new LocalQueue({ name: 'tasks' }), deadLetter);

    await port.sendToDeadLetter('{"bad":true}', 'not a task reference');
    const record = await receiveOne(deadLetter);

    expect(record.body).toBe('{"bad":true}');
    expect(record.messageAttributes[DEAD_LETTER_REASON_ATTRIBUTE]?.stringValue).toBe(
      'not a task reference',
    );
  });
});

describe('taskSenderPort', () => {
  it('sends one task reference message per task', async () => {
    const queue = new LocalQueue({ name: 'tasks' });
    const tasks = Array.from({ length: 23 }, (_, index) => ({
      runId: 'run-1',
      taskId: `t${index}`,
    }));

    await taskSenderPort(queue).sendTasks(tasks);
    const bodies: string[] = [];
    for (let batch = await queue.receiveMessages(10); batch.length > 0;) {
      bodies.push(...batch.map((record) => record.body));
      batch = await queue.receiveMessages(10);
    }

    expect(queue.stats().sent).toBe(23);
    expect(bodies.map((body) => JSON.parse(body))).toEqual(tasks);
  });

  it('throws when a message cannot be sent', async () => {
    const queue = new LocalQueue({ name: 'tasks' });
    const hugeTask = { runId: 'run-1', taskId: 'x'.repeat(300_000) };

    await expect(taskSenderPort(queue).sendTasks([hugeTask])).rejects.toThrow(
      MessageSendFailedError,
    );
  });
});
