/**
 * Fault injectors of the simulation. Each wraps one dependency the handlers
 * take (the DynamoDB document client, the target fetch, the result store, the
 * message queue) and misbehaves as the scenario's plan says, while faults are
 * on. A death returns a promise that never settles: nothing after that point
 * runs, as when Lambda stops a function, and no handler can catch it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type {
  FetchedPage,
  FetchPage,
  MessageQueue,
  ResultStore,
  TableNames,
} from '../../lambdas/domain/ports';
import { isCounterShardSk, isTerminalStatus, RUN_META_SK } from '../../lambdas/domain/schema';
import { currentDelivery, deliveryKey, pastDeadline, SIM_FUNCTION } from './context';
import { drawFor } from './draw';
import {
  DEATH_STEP,
  FETCH_BEHAVIOUR,
  type DeathStep,
  type Scenario,
  type TaskFaults,
} from './scenario';

/** A promise that never settles: the caller is gone, as if its process were killed. */
export const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** What the injectors did and saw during one scenario. */
export class FaultLog {
  /** Faults are injected only while this is true; the liveness phase turns it off. */
  active = true;
  /**
   * Set once the scenario is over: every later request hangs, so invocations
   * that outlived their timeout cannot change the tables while the checker reads them.
   */
  frozen = false;
  readonly deaths = new Map<DeathStep | 'finalizer', number>();
  readonly injected = new Map<string, number>();
  readonly targetCalls = new Map<string, number>();
  /** Target calls that started while another call for the same task was in flight. */
  concurrentTargetCalls = 0;
  /** This scenario's DynamoDB requests sent and not yet answered. */
  requestsInFlight = 0;
  /** What happened, in order, on the scenario's clock: printed for a failing seed. */
  readonly trace: string[] = [];

  private readonly startedAt = Date.now();
  private readonly fetchesInFlight = new Map<string, number>();
  private readonly spentFaults = new Set<string>();
  private readonly requestIndexes = new Map<string, number>();

  /** @param seed the scenario's seed, from which every run-time fault is drawn */
  constructor(readonly seed: number = 0) {}

  /** Adds a line to the trace, stamped with the ms since the scenario started. */
  note(text: string) {
    const delivery = currentDelivery();
    const who = delivery ? `${deliveryKey(delivery)} ` : '';
    this.trace.push(`${String(Date.now() - this.startedAt).padStart(6)} ${who}${text}`);
  }

  /**
   * Whether a fault with this chance happens to the current delivery's next
   * request of `kind`: drawn from the seed, the delivery and the request's
   * index within it, so it does not depend on other deliveries' timing.
   */
  draws(kind: string, probability: number): boolean {
    if (probability <= 0) return false;
    const delivery = currentDelivery();
    const owner = `${kind}:${delivery ? deliveryKey(delivery) : 'outside'}`;
    const index = (this.requestIndexes.get(owner) ?? 0) + 1;
    this.requestIndexes.set(owner, index);

    return drawFor(this.seed, owner, index) < probability;
  }

  count(kind: string) {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }

  recordDeath(step: DeathStep | 'finalizer') {
    this.note(`dies: ${step}`);
    this.deaths.set(step, (this.deaths.get(step) ?? 0) + 1);
  }

  /** True the first time it is asked for `key`: one-shot faults. */
  spend(key: string): boolean {
    if (this.spentFaults.has(key)) return false;
    this.spentFaults.add(key);

    return true;
  }

  fetchStarted(taskId: string): number {
    const inFlight = this.fetchesInFlight.get(taskId) ?? 0;
    if (inFlight > 0) this.concurrentTargetCalls += 1;
    this.fetchesInFlight.set(taskId, inFlight + 1);
    const calls = (this.targetCalls.get(taskId) ?? 0) + 1;
    this.targetCalls.set(taskId, calls);

    return calls;
  }

  fetchEnded(taskId: string) {
    this.fetchesInFlight.set(taskId, (this.fetchesInFlight.get(taskId) ?? 1) - 1);
  }

  get totalTargetCalls(): number {
    return [...this.targetCalls.values()].reduce((sum, calls) => sum + calls, 0);
  }
}

/** Looks up the plan of the task the current delivery is about. */
export type PlanLookup = (taskId: string) => TaskFaults | undefined;

export const planLookup = (scenario: Scenario, taskIds: readonly string[]): PlanLookup => {
  const plans = new Map(taskIds.map((taskId, index) => [taskId, scenario.tasks[index]]));

  return (taskId) => plans.get(taskId);
};

/** Whether the current delivery is the one planned to die at `step` (once per task). */
const diesHere = (log: FaultLog, plans: PlanLookup, step: DeathStep): boolean => {
  const delivery = currentDelivery();
  if (delivery?.fn !== SIM_FUNCTION.worker || !log.active) return false;
  const death = plans(delivery.taskId)?.death;
  if (death?.step !== step || death.onDelivery !== delivery.delivery) return false;
  if (!log.spend(`death:${delivery.taskId}`)) return false;
  log.recordDeath(step);

  return true;
};

export const dieIfPlanned = async <T>(
  log: FaultLog,
  plans: PlanLookup,
  step: DeathStep,
  value: T,
): Promise<T> => (diesHere(log, plans, step) ? never<T>() : value);

/** The parts of an SDK command the injectors look at. */
export interface CommandLike {
  readonly input: Record<string, unknown>;
  readonly constructor: { readonly name: string };
}

/** The table writes a command makes (the items of a transaction, or the command itself). */
export const writesOf = (command: CommandLike): Record<string, unknown>[] => {
  if (command.constructor.name === 'TransactWriteCommand') {
    const items = (command.input.TransactItems ?? []) as Record<string, Record<string, unknown>>[];

    return items.flatMap((item) => Object.values(item));
  }
  if (['UpdateCommand', 'PutCommand'].includes(command.constructor.name)) return [command.input];

  return [];
};

/** A write that adds to a counter shard of the runs table. */
export const isCounterWrite = (command: CommandLike, tables: TableNames): boolean =>
  writesOf(command).some(
    (write) =>
      write.TableName === tables.runs &&
      isCounterShardSk((write.Key as Record<string, unknown> | undefined)?.sk),
  );

/** A write to the tasks table that sets a terminal status. */
export const isTerminalWrite = (command: CommandLike, tables: TableNames): boolean =>
  writesOf(command).some((write) => {
    if (write.TableName !== tables.tasks) return false;
    const item = write.Item as Record<string, unknown> | undefined;
    if (item) return isTerminalStatus(item.status);
    const values = Object.values((write.ExpressionAttributeValues ?? {}) as object);

    return (
      String(write.UpdateExpression ?? '').includes('#status') && values.some(isTerminalStatus)
    );
  });

const throttled = () =>
  Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

const conflict = (command: CommandLike) => {
  if (command.constructor.name === 'TransactWriteCommand') {
    const count = ((command.input.TransactItems ?? []) as unknown[]).length;

    return new TransactionCanceledException({
      message: 'Transaction cancelled (injected TransactionConflict)',
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: Array.from({ length: count }, (_, index) => ({
        Code: index === count - 1 ? 'TransactionConflict' : 'None',
      })),
    });
  }

  return Object.assign(new Error('Transaction is ongoing for the item (injected)'), {
    name: 'TransactionConflictException',
    $metadata: { httpStatusCode: 400 },
  });
};

const timedOutAfterCommit = () =>
  Object.assign(new Error('Socket timed out after the request was sent (injected)'), {
    name: 'TimeoutError',
  });

export interface FaultyDocumentClientOptions {
  readonly tables: TableNames;
  readonly scenario: Scenario;
  readonly plans: PlanLookup;
  readonly log: FaultLog;
  /** Told of every request DynamoDB applied (answered without an error). */
  readonly onApplied?: (command: CommandLike, response: unknown) => void;
}

/** Sends through the real client, counting the request as in flight until it is answered. */
const sendCounted = async (
  client: DynamoDBDocumentClient,
  log: FaultLog,
  command: CommandLike,
): Promise<unknown> => {
  log.requestsInFlight += 1;
  try {
    return await (client.send as (command: CommandLike) => Promise<unknown>)(command);
  } finally {
    log.requestsInFlight -= 1;
  }
};

/**
 * A document client whose `send` throttles or conflicts on counter writes,
 * lets a terminal write commit and then reports a timeout, and dies after the
 * delivery's first request or its terminal write, as the plan says.
 */
export const faultyDocumentClient = (
  client: DynamoDBDocumentClient,
  options: FaultyDocumentClientOptions,
): DynamoDBDocumentClient => {
  const { tables, scenario, plans, log } = options;
  const requestsByDelivery = new Map<string, number>();

  const send = async (command: CommandLike) => {
    const name = command.constructor.name;
    if (log.frozen) return never();
    if (pastDeadline()) {
      log.note(`${name} not sent: past the invocation deadline`);
      return never();
    }
    const delivery = currentDelivery();
    if (
      log.active &&
      isCounterWrite(command, tables) &&
      log.draws('counter-fault', scenario.counterFaultRate)
    ) {
      const error = log.draws('counter-fault-kind', 0.5) ? throttled() : conflict(command);
      log.count(error.name);
      log.note(`${name} injected ${error.name}`);
      throw error;
    }

    const response = await sendCounted(client, log, command).catch((error: unknown) => {
      log.note(`${name} ${(error as Error).name}`);
      throw error;
    });
    log.note(`${name} applied`);
    options.onApplied?.(command, response);

    if (delivery) {
      const key = deliveryKey(delivery);
      const requests = (requestsByDelivery.get(key) ?? 0) + 1;
      requestsByDelivery.set(key, requests);
      if (requests === 1 && diesHere(log, plans, DEATH_STEP.afterFirstRequest)) return never();
    }
    if (delivery && isTerminalWrite(command, tables)) {
      if (diesHere(log, plans, DEATH_STEP.afterTerminalWrite)) return never();
      const plan = plans(delivery.taskId);
      if (log.active && plan?.terminalWriteTimesOut && log.spend(`timeout:${delivery.taskId}`)) {
        log.count('TimeoutAfterCommit');
        log.note(`${name} answered with an injected timeout after committing`);
        throw timedOutAfterCommit();
      }
    }

    return response;
  };

  return Object.assign(Object.create(client) as DynamoDBDocumentClient, { send });
};

/**
 * The finalizer's document client: when `dies`, it dies, once, just before
 * the finalizer would mark a run completed.
 */
export const dyingFinalizerClient = (
  client: DynamoDBDocumentClient,
  tables: TableNames,
  log: FaultLog,
  options: {
    readonly dies: boolean;
    readonly onApplied?: FaultyDocumentClientOptions['onApplied'];
  },
): DynamoDBDocumentClient => {
  const send = async (command: CommandLike) => {
    if (log.frozen) return never();
    const input = command.input;
    const marksCompleted =
      command.constructor.name === 'UpdateCommand' &&
      input.TableName === tables.runs &&
      (input.Key as Record<string, unknown> | undefined)?.sk === RUN_META_SK &&
      Object.values((input.ExpressionAttributeValues ?? {}) as object).includes('completed');
    if (options.dies && marksCompleted && log.active && log.spend('finalizer-death')) {
      log.recordDeath('finalizer');
      return never();
    }
    const response = await sendCounted(client, log, command);
    options.onApplied?.(command, response);

    return response;
  };

  return Object.assign(Object.create(client) as DynamoDBDocumentClient, { send });
};

/** A target failure shaped like the gateway's errors. */
export class SimulatedFetchError extends Error {
  constructor(
    override readonly name: string,
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${name} (injected)`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultyFetchOptions {
  readonly scenario: Scenario;
  readonly plans: PlanLookup;
  readonly log: FaultLog;
  /** How long a `slow` answer takes. */
  readonly slowMs: number;
}

/**
 * The target site: answers at once unless the plan says otherwise, counts
 * calls per task, and notes calls that overlap another call for the same task.
 */
export const faultyFetch = (options: FaultyFetchOptions): FetchPage => {
  const { plans, log } = options;

  return async (url) => {
    if (pastDeadline()) return never();
    const delivery = currentDelivery();
    const taskId = delivery?.taskId ?? url;
    const call = log.fetchStarted(taskId);
    const planned = plans(taskId)?.fetches[call - 1] ?? FETCH_BEHAVIOUR.ok;
    const behaviour =
      log.active || planned === FETCH_BEHAVIOUR.permanent ? planned : FETCH_BEHAVIOUR.ok;
    const page = await untilDeadline(
      answer(behaviour, url, options.slowMs, drawFor(log.seed, 'fetch', taskId, call)),
      delivery?.deadline,
    ).finally(() => log.fetchEnded(taskId));
    log.note(`fetch ${behaviour}${page === KILLED ? ': killed at the invocation deadline' : ''}`);
    if (page === KILLED) return never();

    return dieIfPlanned(log, plans, DEATH_STEP.afterFetch, page);
  };
};

const KILLED = Symbol('killed at the invocation timeout');

/** Settles like `work`, or with KILLED when the invocation's deadline comes first. */
const untilDeadline = <T>(work: Promise<T>, deadline: number | undefined) => {
  if (deadline === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<typeof KILLED>((resolve) => {
    timer = setTimeout(() => resolve(KILLED), Math.max(0, deadline - Date.now()));
  });

  return Promise.race([work, killed]).finally(() => clearTimeout(timer));
};

/** What the target does; `draw` (in [0, 1)) picks the latency and the Retry-After. */
const answer = async (
  behaviour: string,
  url: string,
  slowMs: number,
  draw: number,
): Promise<FetchedPage> => {
  switch (behaviour) {
    case FETCH_BEHAVIOUR.slow:
      await sleep(slowMs);
      break;
    case FETCH_BEHAVIOUR.timeout:
      await sleep(50);
      throw new SimulatedFetchError('FetchTimeoutError', true);
    case FETCH_BEHAVIOUR.tooManyRequests:
      throw new SimulatedFetchError('TooManyRequestsError', true, draw < 0.5 ? 0 : 1);
    case FETCH_BEHAVIOUR.serverError:
      throw new SimulatedFetchError('ServerError', true);
    case FETCH_BEHAVIOUR.permanent:
      throw new SimulatedFetchError('PermanentStatusError', false);
    default:
      await sleep(Math.floor(draw * 10));
  }

  return {
    status: 200,
    body: Buffer.from(`<p>${url}</p>`),
    contentType: 'text/html',
    finalUrl: url,
  };
};

/** Results kept in memory, keyed as in S3. */
export class MemoryResults implements ResultStore {
  readonly objects = new Map<string, number>();

  async put(key: string, body: Uint8Array): Promise<void> {
    this.objects.set(key, body.byteLength);
  }
}

/** A result store whose first put of a planned task fails, and which can die after a put. */
export const faultyResultStore = (
  store: ResultStore,
  plans: PlanLookup,
  log: FaultLog,
): ResultStore => ({
  put: async (key, body, contentType) => {
    if (pastDeadline()) return never();
    const taskId = currentDelivery()?.taskId;
    if (taskId && log.active && plans(taskId)?.storeFails && log.spend(`store:${taskId}`)) {
      log.count('ResultStoreFailure');
      throw new SimulatedFetchError('ResultStoreUnavailable', true);
    }
    await store.put(key, body, contentType);

    return dieIfPlanned(log, plans, DEATH_STEP.afterStore, undefined);
  },
});

/** A message queue port whose visibility changes sometimes fail. */
export const faultyMessageQueue = (
  queue: MessageQueue,
  scenario: Scenario,
  log: FaultLog,
): MessageQueue => ({
  changeVisibility: async (receiptHandle, seconds) => {
    if (pastDeadline()) return never();
    if (log.active && log.draws('queue-fault', scenario.queueFaultRate)) {
      log.count('ChangeVisibilityFailure');
      throw new SimulatedFetchError('QueueUnavailable', true);
    }
    await queue.changeVisibility(receiptHandle, seconds);
  },
  sendToDeadLetter: (body, reason) => queue.sendToDeadLetter(body, reason),
});
