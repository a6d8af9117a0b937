import type { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';

/** Where the worker reads the scraping gateway's API key: a secret or a parameter, not both. */
export type GatewayKeySource =
  | {
      /** A Secrets Manager secret whose string value is the key. */
      readonly secret: ISecret;
    }
  | {
      /** An SSM parameter (SecureString or String) whose value is the key. */
      readonly parameter: IStringParameter;
    };

/** A scraping gateway the worker sends every target through. */
export interface GatewayProps {
  /**
   * The gateway's URL with `{url}` where the URL-encoded target goes and `{key}`
   * where the URL-encoded API key goes, e.g.
   * `https://api.example.com/scrape?api_key={key}&url={url}`.
   */
  readonly urlTemplate: string;
  /** Where the API key is read at cold start; it never enters the template or the environment. */
  readonly apiKey: GatewayKeySource;
}

/** Properties of a {@link ConveyorPipeline}. Every one is optional. */
export interface ConveyorPipelineProps {
  /**
   * The `service` dimension of every custom metric (POWERTOOLS_SERVICE_NAME of
   * the three functions). Alarms and the dashboard filter on it, so two
   * pipelines in one account need different values.
   *
   * 1 to 100 letters, digits, `-` and `_` (it also names the dashboard).
   *
   * @default the name of the enclosing stack
   */
  readonly serviceName?: string;

  /**
   * How long one worker invocation may run. The lease margin
   * (max(5 s, 10 % of it)), the fetch deadline (remaining time minus the settle
   * reserve) and the task queue's visibility timeout all derive from it.
   *
   * 10 seconds to 15 minutes.
   *
   * @default Duration.seconds(60)
   */
  readonly workerTimeout?: Duration;

  /**
   * Memory of the worker function, in MiB. Lambda gives CPU in proportion.
   *
   * 128 to 10240.
   *
   * @default 512
   */
  readonly workerMemorySize?: number;

  /**
   * Messages handed to one worker invocation.
   *
   * 1 to 10.
   *
   * @default 10
   */
  readonly workerBatchSize?: number;

  /**
   * Most worker invocations the task queue's event source runs at once. This
   * bounds the load on target sites and on the counter shards.
   *
   * 2 to 1000.
   *
   * @default 50
   */
  readonly workerMaxConcurrency?: number;

  /**
   * Visibility timeout of the task queue. Must be at least six times the worker
   * timeout, so a message whose invocation is retried by Lambda cannot come back
   * while an earlier invocation still works on it.
   *
   * 6 × workerTimeout to 12 hours.
   *
   * @default 6 × workerTimeout
   */
  readonly taskVisibilityTimeout?: Duration;

  /**
   * How long the task queue keeps a message. The dead-letter queue keeps
   * messages for 14 days, which must stay longer than this: SQS ages a
   * dead-lettered message from its first enqueue.
   *
   * 1 hour to 13 days.
   *
   * @default Duration.days(7)
   */
  readonly taskRetentionPeriod?: Duration;

  /**
   * Claims a task may take before a retryable failure settles it failed.
   *
   * 1 to 20.
   *
   * @default DEFAULTS.maxAttempts (3)
   */
  readonly maxAttempts?: number;

  /**
   * Receives of one message before SQS moves it to the dead-letter queue. See
   * {@link minimumMaxReceiveCount} for why it must be at least
   * 2 × maxAttempts + 1.
   *
   * 2 × maxAttempts + 1 to 1000.
   *
   * @default 2 × maxAttempts + 1 + 4 spare receives (11 with 3 attempts)
   */
  readonly maxReceiveCount?: number;

  /**
   * Largest response body kept, in bytes, after decompression. Each message of
   * a batch may hold one body in memory at once, so
   * workerBatchSize × fetchMaxBytes must fit in half the worker's memory.
   *
   * 1 KiB to 100 MiB.
   *
   * @default DEFAULTS.fetchMaxBytes (5 MiB)
   */
  readonly fetchMaxBytes?: number;

  /**
   * Sends every target through a scraping gateway; the worker gets read
   * access to the key's secret or parameter, and to nothing else of the kind.
   *
   * @default targets are fetched directly
   */
  readonly gateway?: GatewayProps;

  /**
   * Keeps the tables, the results bucket and the log groups when the stack is
   * deleted (RETAIN, and deletion protection on the tables). Set `false` for
   * throwaway stacks: everything is destroyed, the bucket is emptied first.
   *
   * @default true
   */
  readonly retainData?: boolean;

  /**
   * Deletes result objects this long after they were written.
   *
   * 1 day or more, whole days.
   *
   * @default results are kept until deleted
   */
  readonly resultsExpiration?: Duration;

  /**
   * A bucket that receives the results bucket's server access logs.
   *
   * @default no server access logs
   */
  readonly serverAccessLogsBucket?: IBucket;

  /**
   * The bus the finalizer publishes RunCompleted events on.
   *
   * @default the account's default event bus
   */
  readonly eventBus?: IEventBus;

  /**
   * An e-mail address subscribed to the alarm topic. AWS sends it a
   * confirmation mail first.
   *
   * @default no subscription; subscribe to the AlarmTopicArn output yourself
   */
  readonly alarmEmail?: string;

  /**
   * Age of the oldest task message that raises the backlog alarm. Large runs
   * with low worker concurrency age their backlog legitimately; raise this for
   * them. Must stay below taskRetentionPeriod, or messages expire unnoticed.
   *
   * 5 minutes to taskRetentionPeriod.
   *
   * @default Duration.hours(1)
   */
  readonly oldestMessageAgeThreshold?: Duration;

  /**
   * DynamoDB transaction conflicts per 5 minutes, on either table, that raise
   * the contention alarm. Concurrent settles on one counter shard conflict
   * and are retried, so a few are normal.
   *
   * 1 or more.
   *
   * @default 100
   */
  readonly transactionConflictThreshold?: number;

  /**
   * Retention of the functions' log groups.
   *
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;

  /**
   * Turns on X-Ray active tracing for the three functions.
   *
   * @default false
   */
  readonly tracing?: boolean;
}
