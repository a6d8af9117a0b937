import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricSink } from '../domain/ports';

/** The domain's metric sink over Powertools Metrics (CloudWatch embedded metric format). */
export const powertoolsMetricSink = (metrics: Metrics): MetricSink => ({
  count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
  milliseconds: (name, value) => metrics.addMetric(name, MetricUnit.Milliseconds, value),
});
