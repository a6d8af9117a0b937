/**
 * The pipeline's settings: props resolved against their defaults once,
 * validated, and the values derived from them. No resources are made here.
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { DEFAULTS } from '../lambdas/config';
import { GatewaySettingsError } from '../lambdas/gateway/errors';
import { validateUrlTemplate } from '../lambdas/gateway/urls';
import { PipelineConfigurationError } from './errors';
import type { ConveyorPipelineProps, GatewayProps } from './pipeline-props';

/** AWS asks for a visibility timeout of at least six times the consuming function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The lease margin is this share of the worker timeout, but never below DEFAULTS.leaseMarginMs. */
export const LEASE_MARGIN_SHARE = 0.1;

/** Receives allowed beyond the protocol's own need, for invocations that fail before a claim. */
export const SPARE_RECEIVES = 4;

/** SQS keeps a message at most 14 days; the dead-letter queues keep them that long. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** SQS refuses visibility timeouts above 12 hours. */
export const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

/** The shortest worker timeout that leaves a fetch time after the settle reserve. */
export const MIN_WORKER_TIMEOUT = Duration.seconds(10);

/** Lambda's longest timeout. */
export const MAX_WORKER_TIMEOUT = Duration.minutes(15);

/** Share of the worker's memory the response bodies of one batch may take. */
export const BODY_MEMORY_SHARE = 0.5;

const MIB = 1024 * 1024;

/** Every pipeline setting with its default applied, validated. */
export interface PipelineSettings {
  readonly serviceName: string;
  readonly workerTimeout: Duration;
  readonly workerMemorySize: number;
  readonly workerBatchSize: number;
  readonly workerMaxConcurrency: number;
  readonly taskVisibilityTimeout: Duration;
  readonly taskRetentionPeriod: Duration;
  readonly maxAttempts: number;
  readonly maxReceiveCount: number;
  readonly leaseMarginMs: number;
  readonly fetchMaxBytes: number;
  readonly gateway: GatewayProps | undefined;
  readonly retainData: boolean;
  readonly alarmEmail: string | undefined;
  readonly resultsExpiration: Duration | undefined;
  readonly oldestMessageAgeThreshold: Duration;
  readonly transactionConflictThreshold: number;
  readonly logRetention: RetentionDays;
  readonly tracing: boolean;
}

/**
 * The lease margin a worker adds to its remaining invocation time when it
 * claims a task: max(DEFAULTS.leaseMarginMs, 10 % of its timeout). Longer
 * invocations get a proportionally wider margin against clock differences and
 * a slow final settle.
 */
export const leaseMarginMsFor = (workerTimeout: Duration): number =>
  Math.max(DEFAULTS.leaseMarginMs, Math.round(workerTimeout.toMilliseconds() * LEASE_MARGIN_SHARE));

/** The shortest task visibility timeout allowed for a worker timeout: six times it. */
export const minimumVisibilityTimeout = (workerTimeout: Duration): Duration =>
  Duration.seconds(workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);

/**
 * The fewest receives of one task message that never dead-letter a task whose
 * worker is still succeeding: `2 × maxAttempts + 1`.
 *
 * Every receive of a message ends one of three ways. It claims the task, which
 * starts a lease; it finds a live lease of another delivery and is hidden until
 * that lease ends (a deferral); or it finds the task settled and acknowledges.
 * A task is claimed at most `maxAttempts` times while its workers live (each
 * retryable failure releases it, the last one settles it), so at most
 * `maxAttempts` leases exist over its life. A given message spends at most one
 * receive per lease: the claim that made it, or one deferral that hides the
 * message past its end. A deferral may end a moment early (visibility is set in
 * whole seconds, and workers' clocks differ slightly), so a second deferral per
 * lease is allowed: `2 × maxAttempts`. One more receive finds the task settled:
 * `+ 1`.
 *
 * A worker that crashes mid-task does spend receives beyond this; a task that
 * keeps crashing its worker is exactly what the dead-letter queue is for.
 */
export const minimumMaxReceiveCount = (maxAttempts: number): number => 2 * maxAttempts + 1;

/**
 * The default receive limit: {@link minimumMaxReceiveCount} plus
 * {@link SPARE_RECEIVES} for invocations that fail before reaching a message
 * (throttled DynamoDB, a batch lost to a crash).
 */
export const defaultMaxReceiveCount = (maxAttempts: number): number =>
  minimumMaxReceiveCount(maxAttempts) + SPARE_RECEIVES;

/** Applies the defaults to `props` and validates the result, throwing against `scope`. */
export const resolvePipelineSettings = (
  scope: IConstruct,
  props: ConveyorPipelineProps,
): PipelineSettings => {
  const check = new PropChecker(scope);
  const workerTimeout = check.durationWithin(
    'workerTimeout',
    props.workerTimeout ?? Duration.seconds(60),
    MIN_WORKER_TIMEOUT,
    MAX_WORKER_TIMEOUT,
  );
  const workerMemorySize = check.integerWithin(
    'workerMemorySize',
    props.workerMemorySize ?? 512,
    128,
    10_240,
  );
  const workerBatchSize = check.integerWithin(
    'workerBatchSize',
    props.workerBatchSize ?? 10,
    1,
    10,
  );
  const maxAttempts = check.integerWithin(
    'maxAttempts',
    props.maxAttempts ?? DEFAULTS.maxAttempts,
    1,
    20,
  );
  const taskRetentionPeriod = check.durationWithin(
    'taskRetentionPeriod',
    props.taskRetentionPeriod ?? Duration.days(7),
    Duration.hours(1),
    Duration.days(13),
  );

  return {
    serviceName: check.serviceName(props.serviceName ?? Stack.of(scope).stackName),
    workerTimeout,
    workerMemorySize,
    workerBatchSize,
    workerMaxConcurrency: check.integerWithin(
      'workerMaxConcurrency',
      props.workerMaxConcurrency ?? 50,
      2,
      1000,
    ),
    taskVisibilityTimeout: check.durationWithin(
      'taskVisibilityTimeout',
      props.taskVisibilityTimeout ?? minimumVisibilityTimeout(workerTimeout),
      minimumVisibilityTimeout(workerTimeout),
      MAX_VISIBILITY_TIMEOUT,
      `(${VISIBILITY_TIMEOUT_FACTOR} × workerTimeout of ${workerTimeout.toHumanString()})`,
    ),
    taskRetentionPeriod,
    maxAttempts,
    maxReceiveCount: check.integerWithin(
      'maxReceiveCount',
      props.maxReceiveCount ?? defaultMaxReceiveCount(maxAttempts),
      minimumMaxReceiveCount(maxAttempts),
      1000,
      `(2 × maxAttempts + 1 with maxAttempts ${maxAttempts}, so deferrals behind a live lease never dead-letter a task)`,
    ),
    leaseMarginMs: leaseMarginMsFor(workerTimeout),
    fetchMaxBytes: check.fetchMaxBytes(
      props.fetchMaxBytes ?? DEFAULTS.fetchMaxBytes,
      workerBatchSize,
      workerMemorySize,
    ),
    gateway: check.gateway(props.gateway),
    retainData: props.retainData ?? true,
    alarmEmail: check.alarmEmail(props.alarmEmail),
    resultsExpiration: check.resultsExpiration(props.resultsExpiration),
    oldestMessageAgeThreshold: check.durationWithin(
      'oldestMessageAgeThreshold',
      props.oldestMessageAgeThreshold ?? Duration.hours(1),
      Duration.minutes(5),
      taskRetentionPeriod,
      '(taskRetentionPeriod)',
    ),
    transactionConflictThreshold: check.integerWithin(
      'transactionConflictThreshold',
      props.transactionConflictThreshold ?? 100,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    logRetention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    tracing: props.tracing ?? false,
  };
};

/** Validates single props; each failure names the prop, the rule and the value received. */
class PropChecker {
  constructor(private readonly scope: IConstruct) {}

  integerWithin(prop: string, value: number, min: number, max: number, why = ''): number {
    if (!Number.isInteger(value) || value < min || value > max) {
      const upper = max === Number.MAX_SAFE_INTEGER ? 'or more' : `to ${max}`;
      throw this.fail(prop, `must be an integer from ${min} ${upper}${suffix(why)}`, value);
    }

    return value;
  }

  durationWithin(prop: string, value: Duration, min: Duration, max: Duration, why = ''): Duration {
    const ms = value.toMilliseconds();
    if (ms % 1000 !== 0 || ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
      const rule = `must be whole seconds from ${min.toHumanString()}${suffix(why)} to ${max.toHumanString()}`;
      throw this.fail(prop, rule, value);
    }

    return value;
  }

  serviceName(value: string): string {
    if (Token.isUnresolved(value)) return value;
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(value)) {
      throw this.fail('serviceName', 'must be 1 to 100 letters, digits, "_" or "-"', value);
    }

    return value;
  }

  fetchMaxBytes(value: number, batchSize: number, memorySize: number): number {
    this.integerWithin('fetchMaxBytes', value, 1024, 100 * MIB);
    const budget = Math.floor(memorySize * MIB * BODY_MEMORY_SHARE);
    if (value * batchSize > budget) {
      const rule =
        `× workerBatchSize (${batchSize}) must fit in half of workerMemorySize ` +
        `(${memorySize} MiB = ${budget} bytes)`;
      throw this.fail('fetchMaxBytes', rule, value);
    }

    return value;
  }

  gateway(gateway: GatewayProps | undefined): GatewayProps | undefined {
    if (gateway === undefined || Token.isUnresolved(gateway.urlTemplate)) return gateway;
    try {
      validateUrlTemplate(gateway.urlTemplate, true);
    } catch (error) {
      if (!(error instanceof GatewaySettingsError)) throw error;
      throw this.fail(
        'gateway.urlTemplate',
        'must contain {url} and {key} and be an http(s) URL once filled',
        gateway.urlTemplate,
      );
    }
    if (!gateway.urlTemplate.startsWith('https://')) {
      throw this.fail(
        'gateway.urlTemplate',
        'must start with https:// (it carries the API key)',
        gateway.urlTemplate,
      );
    }

    return gateway;
  }

  alarmEmail(value: string | undefined): string | undefined {
    if (value === undefined || Token.isUnresolved(value)) return value;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
      throw this.fail('alarmEmail', 'must be an e-mail address', value);
    }

    return value;
  }

  resultsExpiration(value: Duration | undefined): Duration | undefined {
    if (value === undefined) return undefined;
    const days = value.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw this.fail('resultsExpiration', 'must be 1 day or more, in whole days', value);
    }

    return value;
  }

  private fail(prop: string, rule: string, received: unknown): PipelineConfigurationError {
    return PipelineConfigurationError.of(this.scope, prop, rule, received);
  }
}

const suffix = (why: string): string => (why === '' ? '' : ` ${why}`);
