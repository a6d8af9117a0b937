/**
 * Reads an HTTP Retry-After header: either delta-seconds or an HTTP date.
 */
import { systemClock, type Clock } from '../domain/ports';

const DELTA_SECONDS = /^\d+$/;

/** Every HTTP-date form names a day and a month; this keeps `-5` or `1.5` from passing as dates. */
const HAS_LETTERS = /[a-z]/i;

/**
 * Seconds from now the server asked to wait, or undefined when the header is
 * missing or is neither form. A date in the past gives 0.
 */
export const retryAfterSeconds = (
  header: string | undefined,
  clock: Clock = systemClock,
): number | undefined => {
  const value = header?.trim();
  if (value === undefined || value === '') return undefined;
  if (DELTA_SECONDS.test(value)) return Number(value);

  const retryAtMs = HAS_LETTERS.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(retryAtMs)) return undefined;

  return Math.max(0, Math.ceil((retryAtMs - clock()) / 1000));
};
