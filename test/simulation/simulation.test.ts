import { testEndpoint } from '../helpers/dynamodb';
import { prepareEnvironment, type SimulationEnvironment } from '../../local/sim/harness';
import { REGRESSION_SEEDS } from '../../local/sim/regressions';
import { replayCommand, runSeeds } from '../../local/sim/runner';

/** The fast slice: enough seeds to cover every fault kind, small enough for `npm test`. */
const FAST_SLICE_SEEDS = 200;

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
      .map((result) => ({ replay: replayCommand('conveyor', result.seed), ...result }));
    expect(failures).toEqual([]);
    expect(results).toHaveLength(seeds.length);
  }, 300_000);

  it('catches the naive protocol double counting on the same kind of scenarios', async () => {
    const results = await runSeeds(environment, 'naive', seedRange(6));

    const kinds = new Set(results.flatMap((result) => result.violations.map((v) => v.kind)));
    expect(kinds.size).toBeGreaterThan(0);
  }, 120_000);
});
