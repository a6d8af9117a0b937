/**
 * A small in-process job limiter for submission: a few chunks in flight,
 * with back-pressure on whoever produces the chunks.
 */

/**
 * Runs at most `limit` jobs at once. `run` waits for a free slot, which keeps
 * the reader of the input from running ahead; after a job fails, `run` throws
 * that failure instead of starting more.
 */
export const boundedRunner = (limit: number) => {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  const run = async (job: () => Promise<void>): Promise<void> => {
    while (inFlight.size >= limit && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw failure.error;

    const running: Promise<void> = job()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  };
  const settle = async (): Promise<void> => {
    await Promise.all(inFlight);
  };
  const drain = async (): Promise<void> => {
    await settle();
    if (failure !== undefined) throw failure.error;
  };

  return { run, settle, drain };
};
