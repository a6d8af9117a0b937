import { testEndpoint } from '../helpers/dynamodb';
import { VIOLATION } from '../../local/sim/checker';
import { prepareEnvironment, type SimulationEnvironment } from '../../local/sim/harness';
import { REGRESSION_SEEDS } from '../../local/sim/regressions';
import { replayCommand, runSeeds } from '../../local/sim/runner';

/** The fast slice: enough seeds to cover every fault kind, small enough for `npm test`. */
const FAST_SLICE_SEEDS = 200;
/** Seeds of the naive control; most of them break it, a few would be enough. */
const CONTROL_SEEDS = 20;

const seedRange = (count: number, from = 1) =>
  Array.from({ length: count }, (_, index) => from + index);

describe('seeded fault simulation', () => {
  let environment: SimulationEnvironment;

  beforeAll(async () => {
    environment = await prepareEnvironment(testEndpoint());
  });

  afterAll(() => environment.client.destroy());

  it('finds no violation in conveyor over the regression seeds and the fast slice', async () => {
    const seeds = [...REGRESSION_SEEDS, ...seedRange(FAST_SLICE_SEEDS)];

    const results = await runSeeds(environment, 'conveyor', seeds);

    const failures = results
      .filter((result) => result.violations.length > 0)
      .map(({ seed, violations }) => ({ replay: replayCommand('conveyor', seed), violations }));
    expect(failures).toEqual([]);
    expect(results).toHaveLength(seeds.length);
  }, 240_000);

  it('catches the naive protocol counting tasks twice on the same kind of scenarios', async () => {
    const results = await runSeeds(environment, 'naive', seedRange(CONTROL_SEEDS));

    const kinds = new Set(results.flatMap((result) => result.violations.map((v) => v.kind)));
    expect(kinds).toContain(VIOLATION.settledTwice);
    expect(kinds).toContain(VIOLATION.concurrentTargetCalls);
  }, 120_000);
});
