import type { DomainLogger } from '../lambdas/domain/ports';
import { println, type TextOutput } from './io';

const describeExtra = (extra: Record<string, unknown>[]) =>
  extra.length === 0
    ? ''
    : ` ${JSON.stringify(Object.assign({}, ...extra), (_, value: unknown) =>
        value instanceof Error ? `${value.name}: ${value.message}` : value,
      )}`;

/** A logger for --verbose: one line per entry, level, message and structured keys. */
export const consoleLogger = (output: TextOutput): DomainLogger => {
  const log =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      println(output, `${level} ${message}${describeExtra(extra)}`);

  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
};
