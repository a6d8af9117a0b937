import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../lambdas/metrics';
import { FIVE_MINUTES, ONE_MINUTE, pipelineMetric } from './pipeline-metrics';

/** Construct ids of the pipeline's alarms; the README's alarm table uses the same names. */
export const ALARM = {
  invariantViolations: 'InvariantViolations',
  deadLetterQueueDepth: 'DeadLetterQueueDepth',
  workerErrors: 'WorkerErrors',
  deadLetterHandlerErrors: 'DeadLetterHandlerErrors',
  finalizerErrors: 'FinalizerErrors',
  oldestTaskAge: 'OldestTaskAge',
  finalizerFailedRecords: 'FinalizerFailedRecords',
  transactionConflicts: 'TransactionConflicts',
  throttles: 'Throttles',
} as const;

export interface PipelineAlarmsProps {
  readonly serviceName: string;
  readonly alarmEmail: string | undefined;
  readonly taskQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** Where the finalizer's event source puts stream records it gave up on. */
  readonly finalizerFailureQueue: IQueue;
  readonly worker: IFunction;
  readonly deadLetterHandler: IFunction;
  readonly finalizer: IFunction;
  /** The tables watched for transaction conflicts and throttling, by a short name. */
  readonly tables: Readonly<Record<string, ITable>>;
  readonly oldestMessageAgeThreshold: Duration;
  readonly transactionConflictThreshold: number;
}

interface AlarmSpec {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  /** Consecutive periods that must breach. @default 1 */
  readonly evaluationPeriods?: number;
}

/**
 * The alarms that watch the counts and the flow of a pipeline, all sending
 * to one KMS-encrypted, TLS-only SNS topic, with an optional e-mail
 * subscription. Every alarm also notifies when it returns to OK.
 */
export class PipelineAlarms extends Construct {
  readonly topic: Topic;
  /** Every alarm, by construct id. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  private readonly created: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);

    this.topic = this.createTopic(props);
    this.alarmOnCounts(props);
    this.alarmOnFlow(props);
    this.alarmOnTables(props);
    this.alarms = this.created;
  }

  private createTopic(props: PipelineAlarmsProps): Topic {
    // The key protects notifications in transit through the topic, no stored
    // data, so it goes with the stack whatever retainData says.
    const key = new Key(this, 'TopicKey', {
      description: `Encrypts the conveyor alarm topic of ${props.serviceName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    const topic = new Topic(this, 'Topic', {
      displayName: `conveyor alarms (${props.serviceName})`,
      masterKey: key,
      enforceSSL: true,
    });
    this.allowCloudWatchToPublish(topic, key);
    if (props.alarmEmail !== undefined) {
      topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(topic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The only subscription is an operator e-mail; an undelivered mail would sit in a ' +
          'queue nobody reads, while the alarm state stays visible in CloudWatch.',
      });
    }

    return topic;
  }

  /** CloudWatch publishes as a service: it needs the topic and the key, for this account's alarms. */
  private allowCloudWatchToPublish(topic: Topic, key: Key): void {
    const stack = Stack.of(this);
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
      },
    };
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');

    topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOwnAlarms,
      }),
    );
  }

  /** The counts themselves: an invariant broken, or tasks that reached the dead-letter queue. */
  private alarmOnCounts(props: PipelineAlarmsProps): void {
    this.addAlarm(ALARM.invariantViolations, {
      metric: pipelineMetric(props.serviceName, METRIC.invariantViolations),
      threshold: 1,
      description:
        'A run broke a counter invariant (for example successful > total). Find the run in ' +
        'the finalizer log, run `conveyor audit <runId> --stack <stack>`, and keep its rows.',
    });
    // The dead-letter function drains the queue within seconds, faster than the
    // per-minute depth samples; its receives count every message that arrived.
    this.addAlarm(ALARM.deadLetterQueueDepth, {
      metric: new MathExpression({
        expression: 'visible + inFlight + received',
        usingMetrics: {
          visible: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: Stats.MAXIMUM,
          }),
          inFlight: props.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({
            statistic: Stats.MAXIMUM,
          }),
          received: props.deadLetterQueue.metricNumberOfMessagesReceived({
            statistic: Stats.SUM,
          }),
        },
        label: 'Dead-letter queue depth and receives',
        period: ONE_MINUTE,
      }),
      threshold: 1,
      description:
        'Task messages reached the dead-letter queue: their tasks are being settled failed. ' +
        'Read the dead-letter function log and the tasks’ lastError.',
    });
  }

  /** Whether work flows: function errors, a backlog ageing, stream records given up on. */
  private alarmOnFlow(props: PipelineAlarmsProps): void {
    const functions = [
      [ALARM.workerErrors, props.worker],
      [ALARM.deadLetterHandlerErrors, props.deadLetterHandler],
      [ALARM.finalizerErrors, props.finalizer],
    ] as const;
    for (const [id, handler] of functions) {
      this.addAlarm(id, {
        metric: handler.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        description: `The ${id.replace(/Errors$/, '')} function failed whole invocations. Read its log group.`,
      });
    }
    this.addAlarm(ALARM.oldestTaskAge, {
      metric: props.taskQueue.metricApproximateAgeOfOldestMessage({
        statistic: Stats.MAXIMUM,
        period: FIVE_MINUTES,
      }),
      threshold: props.oldestMessageAgeThreshold.toSeconds(),
      description:
        'The oldest task message is older than expected: workers are not keeping up, or are ' +
        'throttled. Check worker errors and concurrency; raise workerMaxConcurrency if targets allow.',
    });
    this.addAlarm(ALARM.finalizerFailedRecords, {
      metric: props.finalizerFailureQueue.metricApproximateNumberOfMessagesVisible({
        statistic: Stats.MAXIMUM,
        period: FIVE_MINUTES,
      }),
      threshold: 1,
      description:
        'The finalizer gave up on a batch of stream records: a run may stay running with every ' +
        'task settled. Fix the cause (finalizer log), then set a new updatedAt on such a ' +
        "run's META item to trigger the finalizer again.",
    });
  }

  /** DynamoDB contention and capacity, per table. */
  private alarmOnTables(props: PipelineAlarmsProps): void {
    for (const [name, table] of Object.entries(props.tables)) {
      this.addAlarm(`${name}${ALARM.transactionConflicts}`, {
        metric: table.metric('TransactionConflict', { statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: props.transactionConflictThreshold,
        description:
          `Many transactions conflict on the ${name} table: too many settles per counter shard. ` +
          'Submit large runs with more counter shards, or lower workerMaxConcurrency.',
      });
      this.addAlarm(`${name}${ALARM.throttles}`, {
        metric: new MathExpression({
          expression: 'reads + writes',
          usingMetrics: {
            reads: table.metric('ReadThrottleEvents', { statistic: Stats.SUM }),
            writes: table.metric('WriteThrottleEvents', { statistic: Stats.SUM }),
          },
          label: `${name} table throttle events`,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
        evaluationPeriods: 2,
        description:
          `The ${name} table throttled requests for 10 minutes: a hot key (one counter shard) ` +
          'or a burst beyond on-demand headroom. Add counter shards or lower concurrency.',
      });
    }
  }

  private addAlarm(id: string, spec: AlarmSpec): void {
    const alarm = new Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    const notify = new SnsAction(this.topic);
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
    this.created[id] = alarm;
  }
}
