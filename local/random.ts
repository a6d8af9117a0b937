/**
 * A small seeded random source (mulberry32), so fault injection in the local
 * runtime replays exactly for the same seed.
 */

/** Returns numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** Creates a random source that yields the same sequence for the same 32-bit seed. */
export const seededRandom = (seed: number): RandomSource => {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);

    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
};
