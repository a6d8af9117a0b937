/**
 * Which delivery of which task the current asynchronous call chain belongs
 * to. The simulation's worker runs with batches of one message, so every
 * request a fault wrapper sees can be attributed to one task and delivery.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface DeliveryContext {
  readonly taskId: string;
  /** 1 for the first delivery of this task the worker saw, 2 for the next, … */
  readonly delivery: number;
  /**
   * Epoch ms at which the invocation's timeout ends. Lambda stops a function
   * there, so the fault wrappers let nothing of it run past this point.
   */
  readonly deadline: number;
}

const storage = new AsyncLocalStorage<DeliveryContext>();

/** Runs `work` with `context` visible to every call it makes. */
export const withDelivery = <T>(context: DeliveryContext, work: () => Promise<T>): Promise<T> =>
  storage.run(context, work);

/** The delivery being handled, or undefined outside a worker invocation. */
export const currentDelivery = (): DeliveryContext | undefined => storage.getStore();

/** True when the current invocation has outlived its timeout and would have been stopped. */
export const pastDeadline = (): boolean => {
  const delivery = storage.getStore();

  return delivery !== undefined && Date.now() >= delivery.deadline;
};
