/**
 * Seeds that once broke conveyor in the simulation and were fixed. They run
 * on every `npm run simulate` and in the test suite's fast slice, before the
 * requested range. Add a seed here when a fix lands for it.
 */
export const REGRESSION_SEEDS: readonly number[] = [];
