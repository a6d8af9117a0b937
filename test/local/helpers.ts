/** A clock tests move by hand, so queue timing needs no real sleeps. */
export const manualClock = (start = 1_700_000_000_000) => {
  let current = start;

  return {
    start,
    now: () => current,
    advance: (ms: number) => {
      current += ms;
    },
  };
};

/** Polls `condition` until it holds, failing after `timeoutMs`. */
export const eventually = async (condition: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
