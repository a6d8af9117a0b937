/**
 * Runs a handler the way the Lambda service does from the caller's side: the
 * invocation ends at the function timeout whether or not the handler's promise
 * has settled.
 */
import type { Context } from 'aws-lambda';

/** An async Lambda handler, as conveyor's handlers export them. */
export type AsyncHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/** How one invocation ended, seen from the caller. */
export type InvocationOutcome<TResult> =
  | { readonly kind: 'returned'; readonly value: TResult }
  | { readonly kind: 'threw'; readonly error: unknown }
  | {
      readonly kind: 'timed-out';
      /**
       * Settles once the handler's own promise settles. Nothing cancels the
       * handler: like a slow worker, it keeps going after the caller gave up.
       */
      readonly late: Promise<void>;
    };

/**
 * Invokes `handler` and waits at most `timeoutMs` for it. A handler that throws
 * synchronously counts as having thrown.
 */
export const invokeWithTimeout = async <TEvent, TResult>(
  handler: AsyncHandler<TEvent, TResult>,
  event: TEvent,
  context: Context,
  timeoutMs: number,
): Promise<InvocationOutcome<TResult>> => {
  const running = Promise.resolve().then(() => handler(event, context));
  const finished = running.then(
    (value): InvocationOutcome<TResult> => ({ kind: 'returned', value }),
    (error: unknown): InvocationOutcome<TResult> => ({ kind: 'threw', error }),
  );

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvocationOutcome<TResult>>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'timed-out', late: finished.then(() => undefined) }),
      timeoutMs,
    );
  });

  try {
    return await Promise.race([finished, timedOut]);
  } finally {
    clearTimeout(timer);
  }
};
