/**
 * Scenarios of the fault simulation, derived from a seed alone: the same seed
 * always yields the same run size, settings and fault plan.
 */
import { seededRandom, type RandomSource } from '../random';

/** Points at which a worker dies: nothing after the point runs. */
export const DEATH_STEP = {
  /** After its first DynamoDB request (conveyor: the claim) committed. */
  afterFirstRequest: 'after-first-request',
  afterFetch: 'after-fetch',
  afterStore: 'after-store',
  /** After the write that made the task terminal committed (conveyor: the settle). */
  afterTerminalWrite: 'after-terminal-write',
  /** After the handler returned, before the event source deleted the message. */
  beforeAcknowledge: 'before-acknowledge',
} as const;

export type DeathStep = (typeof DEATH_STEP)[keyof typeof DEATH_STEP];

/** What one call to the target does. */
export const FETCH_BEHAVIOUR = {
  ok: 'ok',
  /** Answers, but only after the queue's visibility timeout has passed. */
  slow: 'slow',
  /** A gateway timeout: retryable, after a delay. */
  timeout: 'timeout',
  tooManyRequests: '429',
  serverError: '5xx',
  /** A 404: permanent, stays so when the faults stop. */
  permanent: 'permanent',
} as const;

export type FetchBehaviour = (typeof FETCH_BEHAVIOUR)[keyof typeof FETCH_BEHAVIOUR];

export interface TaskFaults {
  /** Dies at this step on delivery `deathOnDelivery`. */
  readonly death?: { readonly step: DeathStep; readonly onDelivery: number };
  /** Behaviour of the 1st, 2nd, … call to the target; `ok` after the list. */
  readonly fetches: readonly FetchBehaviour[];
  /** The write that makes the task terminal commits, and its caller sees a TimeoutError. */
  readonly terminalWriteTimesOut: boolean;
  /** The first result store call fails. */
  readonly storeFails: boolean;
  /** The same task enqueued again under a new message id, after these many seconds. */
  readonly extraEnqueueDelaysSeconds: readonly number[];
}

export interface Scenario {
  readonly seed: number;
  readonly taskCount: number;
  readonly shardCount: number;
  readonly maximumConcurrency: number;
  readonly invocationTimeoutMs: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** Share of receives that also deliver a concurrent copy. */
  readonly duplicateRate: number;
  /** Share of counter writes that are throttled or meet a transaction conflict. */
  readonly counterFaultRate: number;
  /** Share of visibility changes that fail. */
  readonly queueFaultRate: number;
  /** Messages naming tasks that do not exist (poison). */
  readonly unknownTaskMessages: number;
  /** The finalizer dies the first time it would mark the run completed. */
  readonly finalizerDies: boolean;
  readonly tasks: readonly TaskFaults[];
}

/** How many real milliseconds one "second" of the queue's API lasts in the simulation. */
export const SIM_MS_PER_SECOND = 200;

const pick = <T>(random: RandomSource, values: readonly T[]): T =>
  values[Math.floor(random() * values.length)] as T;

const chance = (random: RandomSource, probability: number) => random() < probability;

const integer = (random: RandomSource, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1));

const RETRYABLE_FETCHES = [
  FETCH_BEHAVIOUR.timeout,
  FETCH_BEHAVIOUR.tooManyRequests,
  FETCH_BEHAVIOUR.serverError,
] as const;

const taskFaults = (random: RandomSource, maxReceiveCount: number): TaskFaults => {
  const death = chance(random, 0.25)
    ? { step: pick(random, Object.values(DEATH_STEP)), onDelivery: integer(random, 1, 2) }
    : undefined;

  const fetches: FetchBehaviour[] = [];
  const roll = random();
  if (roll < 0.08) fetches.push(FETCH_BEHAVIOUR.permanent);
  else if (roll < 0.2) fetches.push(FETCH_BEHAVIOUR.slow);
  else if (roll < 0.4) {
    // A streak of retryable failures; long streaks outlast maxAttempts or reach the DLQ.
    const streak = integer(random, 1, maxReceiveCount + 1);
    for (let call = 0; call < streak; call++) fetches.push(pick(random, RETRYABLE_FETCHES));
  }

  return {
    ...(death && { death }),
    fetches,
    terminalWriteTimesOut: chance(random, 0.1),
    storeFails: chance(random, 0.05),
    extraEnqueueDelaysSeconds: chance(random, 0.15) ? [pick(random, [0, 1, 3])] : [],
  };
};

/** The scenario of a seed. */
export const scenarioForSeed = (seed: number): Scenario => {
  const random = seededRandom(seed);
  const taskCount = integer(random, 5, 20);
  const maxReceiveCount = integer(random, 3, 6);

  return {
    seed,
    taskCount,
    shardCount: integer(random, 1, 4),
    maximumConcurrency: integer(random, 2, 6),
    invocationTimeoutMs: 400,
    visibilityTimeoutSeconds: pick(random, [0.15, 0.6]),
    maxReceiveCount,
    duplicateRate: pick(random, [0, 0.1, 0.3]),
    counterFaultRate: pick(random, [0, 0.05, 0.2]),
    queueFaultRate: pick(random, [0, 0.05]),
    unknownTaskMessages: chance(random, 0.2) ? 1 : 0,
    finalizerDies: chance(random, 0.3),
    tasks: Array.from({ length: taskCount }, () => taskFaults(random, maxReceiveCount)),
  };
};
