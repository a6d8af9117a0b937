/**
 * Environment variables the Lambda handlers read. The stack sets them from
 * these same names, so a rename cannot leave one side behind.
 */
export const ENV = {
  runsTable: 'CONVEYOR_RUNS_TABLE',
  tasksTable: 'CONVEYOR_TASKS_TABLE',
  taskQueueUrl: 'CONVEYOR_TASK_QUEUE_URL',
  deadLetterQueueUrl: 'CONVEYOR_DEAD_LETTER_QUEUE_URL',
  resultsBucket: 'CONVEYOR_RESULTS_BUCKET',
  eventBusName: 'CONVEYOR_EVENT_BUS_NAME',
  maxAttempts: 'CONVEYOR_MAX_ATTEMPTS',
  leaseMarginMs: 'CONVEYOR_LEASE_MARGIN_MS',
  fetchMaxBytes: 'CONVEYOR_FETCH_MAX_BYTES',
  gatewayUrlTemplate: 'CONVEYOR_GATEWAY_URL_TEMPLATE',
  gatewayKeySecretId: 'CONVEYOR_GATEWAY_KEY_SECRET_ID',
  gatewayKeyParameterName: 'CONVEYOR_GATEWAY_KEY_PARAMETER_NAME',
} as const;

/** Defaults shared by the stack, the handlers and the local runtime. */
export const DEFAULTS = {
  /** Claims a task may take before a retryable failure settles it as failed. */
  maxAttempts: 3,
  /** Added to the invocation's remaining time to form a claim's lease. */
  leaseMarginMs: 5_000,
  /** Time kept back from the invocation's remaining time for store and settle. */
  settleReserveMs: 3_000,
  /** Largest response body kept, after decompression. */
  fetchMaxBytes: 5 * 1024 * 1024,
  /** First back-off before a released task is visible again. */
  retryBaseDelaySeconds: 2,
  /** Longest back-off before a released task is visible again. */
  retryMaxDelaySeconds: 300,
  /** Extra seconds a deferred duplicate stays hidden past the holder's lease. */
  leaseDeferralSlackSeconds: 1,
} as const;

/** Thrown when a handler starts without a setting it needs. */
export class MissingSettingError extends Error {
  override readonly name = 'MissingSettingError';

  constructor(readonly variable: string) {
    super(`Environment variable ${variable} is not set; the stack sets it on every function.`);
  }
}

export const requireEnv = (variable: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[variable];
  if (value === undefined || value === '') throw new MissingSettingError(variable);

  return value;
};

export const numberFromEnv = (
  variable: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number => {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `Environment variable ${variable} must be a positive number; got "${raw}".`,
    );
  }

  return value;
};
