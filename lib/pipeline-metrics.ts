import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE, type MetricName } from '../lambdas/metrics';

/** Period of the dashboard's graphs and of the alarms that react within a minute. */
export const ONE_MINUTE = Duration.minutes(1);

/** Period of the alarms that look at a rate or a trend. */
export const FIVE_MINUTES = Duration.minutes(5);

/**
 * One of the custom metrics the handlers publish, as this pipeline's functions
 * publish it: in {@link METRIC_NAMESPACE}, with the pipeline's `service`
 * dimension, summed per minute unless `options` say otherwise.
 */
export const pipelineMetric = (
  serviceName: string,
  metricName: MetricName,
  options: MetricOptions = {},
): Metric =>
  new Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { service: serviceName },
    statistic: Stats.SUM,
    period: ONE_MINUTE,
    ...options,
  });
