/** Timer helpers shared by the local runtime's pollers. */

/** Resolves after `ms`, or at once when `signal` aborts. */
export const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal?.addEventListener('abort', finish, { once: true });
  });

/** Whether `work` settles within `timeoutMs`; the timer is cleared either way. */
export const settlesWithin = async (
  work: Promise<unknown>,
  timeoutMs: number,
): Promise<boolean> => {
  const controller = new AbortController();
  const expired = delay(timeoutMs, controller.signal).then(() => false);

  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    controller.abort();
  }
};
