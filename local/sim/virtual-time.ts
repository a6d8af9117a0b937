/**
 * Virtual time for the simulation. While installed, the global timers
 * (`setTimeout`, `setInterval` and their clears) and `Date.now` follow a
 * virtual clock that moves only when nothing is waiting on DynamoDB: then it
 * jumps to the earliest timer and fires it. A DynamoDB request therefore takes
 * no virtual time, however loaded the machine is, and every timeout, lease,
 * visibility timeout and back-off of a scenario plays out the same way on
 * every run of its seed. Real time is spent only on DynamoDB requests and on
 * the handlers' own work.
 *
 * `new Date()` without arguments keeps reading the real clock (request
 * signing uses it); conveyor's code reads time through `Date.now`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

interface VirtualTimer {
  readonly id: number;
  at: number;
  /** Order among timers due at the same instant: the earlier scheduled fires first. */
  sequence: number;
  readonly callback: () => void;
  readonly intervalMs?: number;
}

/** The handle `setTimeout` returns while virtual time is installed (shaped like Node's). */
class VirtualTimerHandle {
  constructor(
    readonly id: number,
    private readonly clock: VirtualClock,
  ) {}

  ref() {
    return this;
  }

  unref() {
    return this;
  }

  hasRef() {
    return true;
  }

  refresh() {
    this.clock.reschedule(this.id);

    return this;
  }

  [Symbol.toPrimitive]() {
    return this.id;
  }
}

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  dateNow: Date.now,
};

const realTurn = () => new Promise<void>((resolve) => real.setImmediate(resolve));
const realPause = (ms: number) => new Promise<void>((resolve) => real.setTimeout(resolve, ms));

/** Node's rule: a delay below 1 ms, or not a number, is 1 ms. */
const delayOf = (ms: unknown) => {
  const delay = Number(ms);

  return Number.isFinite(delay) && delay >= 1 ? Math.floor(delay) : 1;
};

class VirtualClock {
  now = real.dateNow();
  requestsInFlight = 0;

  private readonly timers = new Map<number, VirtualTimer>();
  private nextId = 1;
  private nextSequence = 1;
  private running = true;
  private wakeOnIdle: (() => void) | undefined;

  schedule(callback: () => void, delayMs: number, repeat: boolean): VirtualTimerHandle {
    const id = this.nextId++;
    this.timers.set(id, {
      id,
      at: this.now + delayMs,
      sequence: this.nextSequence++,
      callback,
      ...(repeat && { intervalMs: delayMs }),
    });

    return new VirtualTimerHandle(id, this);
  }

  /** Clears a virtual timer; false when `handle` is not one (a real timer set before install). */
  clear(handle: unknown): boolean {
    const id = handle instanceof VirtualTimerHandle ? handle.id : handle;
    if (typeof id !== 'number' || !this.timers.has(id)) return handle instanceof VirtualTimerHandle;
    this.timers.delete(id);

    return true;
  }

  reschedule(id: number) {
    const timer = this.timers.get(id);
    if (!timer) return;
    timer.at = this.now + (timer.intervalMs ?? 1);
    timer.sequence = this.nextSequence++;
  }

  requestStarted() {
    this.requestsInFlight += 1;
  }

  requestEnded() {
    this.requestsInFlight -= 1;
    if (this.requestsInFlight === 0) this.wakeOnIdle?.();
  }

  stop() {
    this.running = false;
    this.wakeOnIdle?.();
  }

  /** Fires timers one at a time, each once no DynamoDB request is in flight. */
  async drive(): Promise<void> {
    while (this.running) {
      if (this.requestsInFlight > 0) {
        await new Promise<void>((resolve) => (this.wakeOnIdle = resolve));
        this.wakeOnIdle = undefined;
        continue;
      }
      // Let every callback and promise chain the last step started run to its
      // next wait, so a request it sends is counted before time moves.
      await realTurn();
      if (this.requestsInFlight > 0 || !this.running) continue;

      const timer = this.earliest();
      if (timer) this.fire(timer);
      else await realPause(1);
    }
  }

  private earliest(): VirtualTimer | undefined {
    let earliest: VirtualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (
        !earliest ||
        timer.at < earliest.at ||
        (timer.at === earliest.at && timer.sequence < earliest.sequence)
      ) {
        earliest = timer;
      }
    }

    return earliest;
  }

  private fire(timer: VirtualTimer) {
    this.now = Math.max(this.now, timer.at);
    if (timer.intervalMs === undefined) this.timers.delete(timer.id);
    else this.reschedule(timer.id);
    try {
      timer.callback();
    } catch (error) {
      // As with a real timer: an exception in a callback is uncaught.
      real.setImmediate(() => {
        throw error;
      });
    }
  }
}

let installed: VirtualClock | undefined;
const trackedClients = new WeakSet<DynamoDBClient>();

/**
 * Counts `client`'s requests (and those of document clients built on it), so
 * virtual time stands still while one is in flight. Without effect while
 * virtual time is not installed. Give the client `maxAttempts: 1`: the SDK's
 * own retry delays would otherwise be counted as in flight and never pass.
 */
export const trackRequests = (client: DynamoDBClient): void => {
  if (trackedClients.has(client)) return;
  trackedClients.add(client);
  client.middlewareStack.add(
    (next) => async (args) => {
      const clock = installed;
      clock?.requestStarted();
      try {
        return await next(args);
      } finally {
        clock?.requestEnded();
      }
    },
    { step: 'initialize', priority: 'high', name: 'simulationRequestsInFlight' },
  );
};

/** Whether virtual time is installed. */
export const virtualTimeInstalled = (): boolean => installed !== undefined;

/**
 * Runs `work` with virtual time installed, and restores the real timers after
 * it settles. Not reentrant: the simulation installs it once per batch.
 */
export const withVirtualTime = async <T>(work: () => Promise<T>): Promise<T> => {
  if (installed) return work();
  const clock = new VirtualClock();
  installed = clock;
  const timers = globalThis as unknown as Record<string, unknown>;
  timers.setTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    clock.schedule(() => callback(...args), delayOf(ms), false);
  timers.setInterval = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    clock.schedule(() => callback(...args), delayOf(ms), true);
  timers.clearTimeout = (handle: unknown) => {
    if (!clock.clear(handle)) real.clearTimeout(handle as NodeJS.Timeout);
  };
  timers.clearInterval = (handle: unknown) => {
    if (!clock.clear(handle)) real.clearInterval(handle as NodeJS.Timeout);
  };
  Date.now = () => clock.now;
  const driving = clock.drive();

  try {
    return await work();
  } finally {
    clock.stop();
    await driving;
    Object.assign(globalThis, {
      setTimeout: real.setTimeout,
      clearTimeout: real.clearTimeout,
      setInterval: real.setInterval,
      clearInterval: real.clearInterval,
    });
    Date.now = real.dateNow;
    installed = undefined;
  }
};
