import { UnsupportedContextMethodError } from '../../local/errors';
import { invokeWithTimeout } from '../../local/invoke';
import { createLambdaContext } from '../../local/lambda-context';
import { manualClock } from './helpers';

describe('createLambdaContext', () => {
  it('counts the remaining time down to the timeout and stops at zero', () => {
    const clock = manualClock();
    const context = createLambdaContext({
      functionName: 'worker',
      timeoutMs: 1_000,
      clock: clock.now,
    });

    const atStart = context.getRemainingTimeInMillis();
    clock.advance(400);
    const later = context.getRemainingTimeInMillis();
    clock.advance(5_000);
    const afterTimeout = context.getRemainingTimeInMillis();

    expect([atStart, later, afterTimeout]).toEqual([1_000, 600, 0]);
  });

  it('names the function in its ARN, log group and memory size like Lambda does', () => {
    const context = createLambdaContext({
      functionName: 'worker',
      timeoutMs: 1_000,
      region: 'eu-west-1',
      awsRequestId: '11111111-2222-3333-4444-555555555555',
    });

    expect(context).toMatchObject({
      functionName: 'worker',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:worker',
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/worker',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
    });
  });

  it('refuses the deprecated callback methods', () => {
    const context = createLambdaContext({ functionName: 'worker', timeoutMs: 1_000 });

    expect(() => context.succeed('done')).toThrow(UnsupportedContextMethodError);
  });
});

describe('invokeWithTimeout', () => {
  const context = createLambdaContext({ functionName: 'worker', timeoutMs: 1_000 });

  it('returns the handler value, or the error of a handler that throws synchronously', async () => {
    const returned = await invokeWithTimeout(
      async (event: number) => event * 2,
      21,
      context,
      1_000,
    );
    const threw = await invokeWithTimeout(
      (() => {
        throw new Error('sync failure');
      }) as () => Promise<never>,
      undefined,
      context,
      1_000,
    );

    expect(returned).toEqual({ kind: 'returned', value: 42 });
    expect(threw).toEqual({ kind: 'threw', error: new Error('sync failure') });
  });

  it('gives up at the timeout and reports when the late handler settles', async () => {
    let finish: () => void = () => undefined;
    const handler = () => new Promise<void>((resolve) => (finish = resolve));

    const outcome = await invokeWithTimeout(handler, undefined, context, 10);
    let lateSettled = false;
    if (outcome.kind === 'timed-out') void outcome.late.then(() => (lateSettled = true));
    await Promise.resolve();
    const beforeFinish = lateSettled;
    finish();
    await new Promise((resolve) => setImmediate(resolve));

    expect(outcome.kind).toBe('timed-out');
    expect(beforeFinish).toBe(false);
    expect(lateSettled).toBe(true);
  });
});
