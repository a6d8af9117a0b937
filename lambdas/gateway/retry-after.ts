/**
 * Reads an HTTP Retry-After header: either delta-seconds or an HTTP date.
 */
import type { Clock } from '../domain/ports';
import { systemClock } from '../domain/ports';

const DELTA_SECONDS = /^\d+$/;

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

  const retryAtMs = Date.parse(value);
  if (Number.isNaN(retryAtMs)) return undefined;

  return Math.max(0, Math.ceil((retryAtMs - clock()) / 1000));
};
