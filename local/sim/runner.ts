/**
 * Runs many scenarios, a few at a time, under virtual time (see
 * virtual-time.ts), and summarises their violations per protocol.
 */
import type { ViolationKind } from './checker';
import {
  runScenario,
  type ProtocolName,
  type ScenarioOptions,
  type ScenarioResult,
  type SimulationEnvironment,
} from './harness';
import { withVirtualTime } from './virtual-time';

/**
 * Scenarios in flight at once unless told otherwise. Virtual time makes a
 * scenario's outcome independent of this; it only decides how busy
 * DynamoDB Local is kept.
 */
export const DEFAULT_SCENARIO_CONCURRENCY = 4;

export interface ProtocolSummary {
  readonly protocol: ProtocolName;
  readonly scenarios: number;
  /** Scenarios with at least one violation. */
  readonly failedScenarios: number;
  /** Scenarios showing each kind of violation. */
  readonly scenariosByKind: Partial<Record<ViolationKind, number>>;
  /** Target calls per task, over all scenarios. */
  readonly targetCallsPerTask: number;
  readonly failingSeeds: readonly number[];
}

export interface RunSeedsOptions extends Omit<ScenarioOptions, 'seedMathRandom'> {
  /** 1 also seeds `Math.random` per scenario, for an exact replay. @default DEFAULT_SCENARIO_CONCURRENCY */
  readonly concurrency?: number;
  readonly onResult?: (result: ScenarioResult) => void;
}

/** Runs `seeds` against `protocol`, at most `concurrency` scenarios at a time. */
export const runSeeds = async (
  environment: SimulationEnvironment,
  protocol: ProtocolName,
  seeds: readonly number[],
  options: RunSeedsOptions = {},
): Promise<ScenarioResult[]> => {
  const concurrency = options.concurrency ?? DEFAULT_SCENARIO_CONCURRENCY;
  const scenarioOptions = { seedMathRandom: concurrency === 1 };
  const results: ScenarioResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < seeds.length) {
      const seed = seeds[next++] as number;
      const result = await runScenario(environment, protocol, seed, scenarioOptions);
      results.push(result);
      options.onResult?.(result);
    }
  };
  const mathRandom = Math.random;
  try {
    await withVirtualTime(() => Promise.all(Array.from({ length: concurrency }, lane)));
  } finally {
    Math.random = mathRandom;
  }

  return results.sort((left, right) => left.seed - right.seed);
};

export const summarise = (
  protocol: ProtocolName,
  results: readonly ScenarioResult[],
): ProtocolSummary => {
  const scenariosByKind: Partial<Record<ViolationKind, number>> = {};
  for (const result of results) {
    for (const kind of new Set(result.violations.map((violation) => violation.kind))) {
      scenariosByKind[kind] = (scenariosByKind[kind] ?? 0) + 1;
    }
  }
  const failing = results.filter((result) => result.violations.length > 0);
  const tasks = results.reduce((sum, result) => sum + result.taskCount, 0);
  const calls = results.reduce((sum, result) => sum + result.targetCalls, 0);

  return {
    protocol,
    scenarios: results.length,
    failedScenarios: failing.length,
    scenariosByKind,
    targetCallsPerTask: tasks === 0 ? 0 : calls / tasks,
    failingSeeds: failing.map((result) => result.seed),
  };
};

/** The command that replays one seed against one protocol. */
export const replayCommand = (protocol: ProtocolName, seed: number): string =>
  `npm run simulate -- --protocols ${protocol} --seed ${seed} --verbose`;
