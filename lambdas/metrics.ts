/**
 * Names of the custom metrics the handlers emit. Alarms and the dashboard in
 * the stack refer to these same constants.
 *
 * Every metric is published in {@link METRIC_NAMESPACE} with one dimension,
 * `service`, whose value is the POWERTOOLS_SERVICE_NAME the stack gives the
 * pipeline's functions.
 */
export const METRIC_NAMESPACE = 'Conveyor';

export const METRIC = {
  /** Messages received by the worker. */
  deliveries: 'Deliveries',
  /** Calls made to target sites (or the scraping gateway). */
  targetCalls: 'TargetCalls',
  /** Milliseconds from request to last body byte. */
  fetchLatency: 'FetchLatency',
  fetchSucceeded: 'FetchSucceeded',
  fetchRetryableFailures: 'FetchRetryableFailures',
  fetchPermanentFailures: 'FetchPermanentFailures',
  /** Tasks this invocation settled (won the conditional write). */
  settledSuccessful: 'SettledSuccessful',
  settledFailed: 'SettledFailed',
  /** Tasks handed back to the queue for another attempt. */
  released: 'TasksReleased',
  /** Deliveries of an already settled task, or settles that lost the race. */
  suppressedDuplicates: 'SuppressedDuplicates',
  /** Deliveries hidden because a live worker holds the task's lease. */
  leaseDeferrals: 'LeaseDeferrals',
  /** Malformed messages or unknown tasks sent straight to the dead-letter queue. */
  poisonMessages: 'PoisonMessages',
  /** Tasks settled failed by the dead-letter handler. */
  deadLetterSettles: 'DeadLetterSettles',
  /** Unreadable dead-lettered messages archived to the results bucket. */
  archivedMessages: 'ArchivedMessages',
  /** Runs whose counters break an invariant (the "successful > total" alarm). */
  invariantViolations: 'InvariantViolations',
  runsCompleted: 'RunsCompleted',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
