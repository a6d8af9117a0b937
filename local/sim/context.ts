/**
 * Which delivery of which task the current asynchronous call chain belongs
 * to. The simulation's functions run with batches of one message, so every
 * request a fault wrapper sees can be attributed to one task and delivery.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The simulated functions a delivery can belong to. */
export const SIM_FUNCTION = { worker: 'worker', deadLetter: 'dead-letter' } as const;

export type SimFunction = (typeof SIM_FUNCTION)[keyof typeof SIM_FUNCTION];

export interface DeliveryContext {
  readonly fn: SimFunction;
  readonly taskId: string;
  /** 1 for the first delivery of this task the function saw, 2 for the next, … */
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

/** The delivery being handled, or undefined outside a function invocation. */
export const currentDelivery = (): DeliveryContext | undefined => storage.getStore();

/** A key naming the current delivery in fault draws and the trace. */
export const deliveryKey = (delivery: DeliveryContext): string =>
  `${delivery.fn === SIM_FUNCTION.worker ? '' : 'dlq:'}${delivery.taskId}#${delivery.delivery}`;

/** True when the current invocation has outlived its timeout and would have been stopped. */
export const pastDeadline = (): boolean => {
  const delivery = storage.getStore();

  return delivery !== undefined && Date.now() >= delivery.deadline;
};
