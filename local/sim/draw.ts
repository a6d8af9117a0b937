/**
 * Run-time fault draws keyed by what they are about (the task, its delivery,
 * the request's index within it) instead of taken from one shared random
 * stream, so the faults a delivery meets do not depend on how the scenario's
 * other deliveries happened to interleave.
 */
import { seededRandom } from '../random';

/** FNV-1a over the key's characters: a 32-bit seed for the draw. */
const hashOf = (key: string): number => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }

  return hash >>> 0;
};

/** A number in [0, 1) fixed by the scenario's seed and the parts of the key. */
export const drawFor = (seed: number, ...parts: readonly (string | number)[]): number =>
  seededRandom(hashOf(`${seed}|${parts.join('|')}`))();
