import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DrainTimeoutError, InvalidSettingError } from '../../local/errors';
import { SqsEventSource, type SqsHandler } from '../../local/event-source';
import { LocalQueue } from '../../local/queue';
import { eventually, manualClock } from './helpers';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue whose messages stay hidden for 100 ms of the manual clock, or 30 s of real time. */
const queueWith = (bodies: readonly string[], clock?: () => number) => {
  const visibilityTimeoutSeconds = clock ? 0.1 : 30;
  const queue = new LocalQueue({ name: 'tasks', visibilityTimeoutSeconds, clock });
  for (const body of bodies) queue.sendMessage(body);

  return queue;
};

const failBodies =
  (failing: readonly string[]): SqsHandler =>
  async (event) => ({
    batchItemFailures: event.Records.filter((record) => failing.includes(record.body)).map(
      (record) => ({ itemIdentifier: record.messageId }),
    ),
  });

describe('SqsEventSource', () => {
  it('deletes only the messages a partial batch response does not list', async () => {
    const queue = queueWith(['a', 'b', 'c']);
    const source = new SqsEventSource({ queue, handler: failBodies(['b']) });

    const outcome = await source.processNextBatch();

    expect(outcome).toEqual({ records: 3, deleted: 2 });
    expect(queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    expect(source.stats()).toMatchObject({ invocations: 1, itemFailures: 1, deleted: 2 });
  });

  it('deletes the whole batch when the handler returns nothing', async () => {
    const queue = queueWith(['a', 'b']);
    const source = new SqsEventSource({ queue, handler: async () => undefined });

    const outcome = await source.processNextBatch();

    expect(outcome).toEqual({ records: 2, deleted: 2 });
    expect(queue.isEmpty()).toBe(true);
  });

  it('fails the whole batch when the handler throws, and the messages come back', async () => {
    const clock = manualClock();
    const queue = queueWith(['a', 'b'], clock.now);
    const source = new SqsEventSource({
      queue,
      handler: async () => {
        throw new Error('worker crashed');
      },
    });

    const outcome = await source.processNextBatch();
    clock.advance(100);
    const redelivered = await queue.receiveMessages(10);

    expect(outcome).toEqual({ records: 2, deleted: 0, failure: 'threw' });
    expect(source.stats().errors).toBe(1);
    expect(redelivered.map((record) => record.attributes.ApproximateReceiveCount)).toEqual([
      '2',
      '2',
    ]);
  });

  it('fails the whole batch when an itemIdentifier is not a message id of the batch', async () => {
    const queue = queueWith(['a', 'b']);
    const handler: SqsHandler = async () => ({
      batchItemFailures: [{ itemIdentifier: 'no-such-message' }],
    });
    const source = new SqsEventSource({ queue, handler });

    const outcome = await source.processNextBatch();

    expect(outcome).toEqual({ records: 2, deleted: 0, failure: 'invalid-response' });
    expect(queue.depth().inFlight).toBe(2);
    expect(source.stats().invalidResponses).toBe(1);
  });

  it('ignores batchItemFailures when partial batch responses are off', async () => {
    const queue = queueWith(['a', 'b']);
    const source = new SqsEventSource({
      queue,
      handler: failBodies(['a']),
      reportBatchItemFailures: false,
    });

    const outcome = await source.processNextBatch();

    expect(outcome).toEqual({ records: 2, deleted: 2 });
  });

  it('counts a timed-out invocation as failed while the late handler still finishes', async () => {
    const clock = manualClock();
    const queue = queueWith(['slow'], clock.now);
    let releaseSlowWorker: () => void = () => undefined;
    const handled: string[] = [];
    const handler: SqsHandler = async (event) => {
      const attempt = event.Records[0]?.attributes.ApproximateReceiveCount ?? '?';
      if (attempt === '1') await new Promise<void>((resolve) => (releaseSlowWorker = resolve));
      handled.push(`attempt ${attempt}`);
    };
    const source = new SqsEventSource({ queue, handler, invocationTimeoutMs: 20 });

    const timedOut = await source.processNextBatch();
    clock.advance(100);
    const redelivery = await source.processNextBatch();
    releaseSlowWorker();
    await source.waitUntilIdle(1_000);

    expect(timedOut).toEqual({ records: 1, deleted: 0, failure: 'timed-out' });
    expect(redelivery).toEqual({ records: 1, deleted: 1 });
    expect(handled).toEqual(['attempt 2', 'attempt 1']);
    expect(source.stats()).toMatchObject({ timeouts: 1, lateCompletions: 1, invocations: 2 });
  });

  it('gives the handler a context whose remaining time counts down from the timeout', async () => {
    const queue = queueWith(['a']);
    const seen: Context[] = [];
    const remaining: number[] = [];
    const handler: SqsHandler = async (_event, context) => {
      seen.push(context);
      remaining.push(context.getRemainingTimeInMillis());
      await sleep(30);
      remaining.push(context.getRemainingTimeInMillis());
    };
    const source = new SqsEventSource({
      queue,
      handler,
      invocationTimeoutMs: 5_000,
      functionName: 'worker',
    });

    await source.processNextBatch();

    expect(seen[0]?.functionName).toBe('worker');
    expect(remaining[0]).toBeLessThanOrEqual(5_000);
    expect(remaining[0]).toBeGreaterThan(4_900);
    expect(remaining[1]).toBeLessThanOrEqual((remaining[0] ?? 0) - 25);
  });

  it.each([
    { maximumConcurrency: 3, withinBound: true },
    { maximumConcurrency: 8, withinBound: false },
  ])(
    'keeps at most maximumConcurrency=$maximumConcurrency invocations in flight',
    async ({ maximumConcurrency, withinBound }) => {
      const queue = queueWith(Array.from({ length: 24 }, (_, index) => `m${index}`));
      let running = 0;
      let peak = 0;
      const handler: SqsHandler = async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(15);
        running -= 1;
      };
      const source = new SqsEventSource({
        queue,
        handler,
        batchSize: 1,
        maximumConcurrency,
        pollWaitMs: 20,
      });

      source.start();
      await source.waitUntilIdle(5_000);
      await source.stop();

      expect(source.stats().invocations).toBe(24);
      expect(peak).toBe(source.stats().peakConcurrency);
      expect(peak <= 3).toBe(withinBound);
      expect(peak).toBeGreaterThanOrEqual(Math.min(maximumConcurrency, 3));
    },
  );

  it('polls in the background and delivers messages sent after start', async () => {
    const queue = queueWith([]);
    const bodies: string[] = [];
    const handler: SqsHandler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      bodies.push(...event.Records.map((record) => record.body));

      return { batchItemFailures: [] };
    };
    const source = new SqsEventSource({ queue, handler, pollWaitMs: 50 });

    source.start();
    queue.sendMessage('after-start');
    await source.waitUntilIdle(2_000);
    const stopped = await source.stop();

    expect(bodies).toEqual(['after-start']);
    expect(stopped).toEqual({ unfinished: 0 });
  });

  it('reports the invocations still running when stop runs out of time', async () => {
    const queue = queueWith(['stuck']);
    const source = new SqsEventSource({
      queue,
      handler: () => new Promise(() => undefined),
      invocationTimeoutMs: 100,
      pollWaitMs: 20,
    });

    source.start();
    await eventually(() => source.concurrency === 1);
    const stopped = await source.stop(20);

    expect(stopped).toEqual({ unfinished: 1 });
  });

  it('throws DrainTimeoutError when the queue does not empty in time', async () => {
    const queue = queueWith(['never-handled']);
    const source = new SqsEventSource({ queue, handler: async () => undefined });

    await expect(source.waitUntilIdle(30)).rejects.toThrow(DrainTimeoutError);
    await expect(source.waitUntilIdle(30)).rejects.toThrow(/1 visible/);
  });

  it('names the setting and the value received when an option is out of range', () => {
    const build = () =>
      new SqsEventSource({ queue: queueWith([]), handler: async () => undefined, batchSize: 11 });

    expect(build).toThrow(InvalidSettingError);
    expect(build).toThrow('batchSize must be an integer from 1 to 10; received 11');
  });
});
