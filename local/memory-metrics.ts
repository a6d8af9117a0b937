import type { MetricSink } from '../lambdas/domain/ports';
import { METRIC, type MetricName } from '../lambdas/metrics';

/** Counts by metric name, every name present (0 when never counted). */
export type MetricCounts = Record<MetricName, number>;

const zeroCounts = (): MetricCounts =>
  Object.fromEntries(Object.values(METRIC).map((name) => [name, 0])) as MetricCounts;

/**
 * A {@link MetricSink} that keeps counts in memory, for the local runtime's
 * summary and for tests. Durations are summed per name, with their count.
 */
export class InMemoryMetrics implements MetricSink {
  private readonly counts = zeroCounts();
  private readonly durationsMs = new Map<MetricName, { total: number; samples: number }>();

  count(name: MetricName, value = 1): void {
    this.counts[name] += value;
  }

  milliseconds(name: MetricName, value: number): void {
    const sum = this.durationsMs.get(name) ?? { total: 0, samples: 0 };
    this.durationsMs.set(name, { total: sum.total + value, samples: sum.samples + 1 });
  }

  /** A copy of the counts so far. */
  snapshot(): MetricCounts {
    return { ...this.counts };
  }

  /** The mean of a duration metric in milliseconds, or undefined before any sample. */
  meanMilliseconds(name: MetricName): number | undefined {
    const sum = this.durationsMs.get(name);

    return sum && sum.samples > 0 ? sum.total / sum.samples : undefined;
  }
}
