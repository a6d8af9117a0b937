/**
 * The narrow seams the domain takes its dependencies through, so that tests
 * and the local runtime pass their own.
 */

/** Current time in epoch milliseconds. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** The subset of a structured logger the domain uses (Powertools' Logger fits). */
export interface DomainLogger {
  debug(message: string, ...extra: object[]): void;
  info(message: string, ...extra: object[]): void;
  warn(message: string, ...extra: object[]): void;
  error(message: string, ...extra: object[]): void;
}

export const silentLogger: DomainLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Table names the domain addresses. */
export interface TableNames {
  readonly runs: string;
  readonly tasks: string;
}
