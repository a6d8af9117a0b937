import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/config';
import { DEAD_LETTER_ARCHIVE_PREFIX, RESULTS_PREFIX } from '../lambdas/domain/result-keys';
import { COUNTER_SHARD_SK_PREFIX, RUN_META_SK } from '../lambdas/domain/schema';
import { PipelineAlarms } from './pipeline-alarms';
import { PipelineDashboard } from './pipeline-dashboard';
import { HANDLER_FILE, PipelineFunction } from './pipeline-function';
import type { ConveyorPipelineProps } from './pipeline-props';
import { PipelineQueues, createSecureQueue } from './pipeline-queues';
import {
  DEAD_LETTER_RETENTION,
  VISIBILITY_TIMEOUT_FACTOR,
  resolvePipelineSettings,
  type PipelineSettings,
} from './pipeline-settings';
import { PipelineStorage } from './pipeline-storage';

/** Timeout of the dead-letter function: one batch of settles and archive writes. */
export const DEAD_LETTER_FUNCTION_TIMEOUT = Duration.seconds(30);

/** Timeout of the finalizer: one batch of stream records, a progress query per run. */
export const FINALIZER_FUNCTION_TIMEOUT = Duration.seconds(60);

/** Memory of the dead-letter function and the finalizer, in MiB. */
export const SMALL_FUNCTION_MEMORY_MIB = 256;

/** Dead-lettered messages handled by one invocation, and invocations at once. */
export const DEAD_LETTER_BATCH_SIZE = 10;
export const DEAD_LETTER_MAX_CONCURRENCY = 2;

/**
 * The finalizer's stream event source. Retries are bounded (then records go to
 * the failure queue and an alarm fires) and a failing batch is bisected, so one
 * bad record cannot hold back the runs behind it in its shard.
 */
export const FINALIZER_STREAM = {
  batchSize: 100,
  /** Gathers a second of settles, so a busy run is queried once, not once per settle. */
  maxBatchingWindow: Duration.seconds(1),
  retryAttempts: 10,
  maxRecordAge: Duration.hours(1),
} as const;

/** DynamoDB stream events that can move a run to completion; REMOVE never does. */
const WRITE_EVENTS = FilterRule.or('INSERT', 'MODIFY');

/**
 * A whole conveyor pipeline: the task queue and its dead-letter queue, the
 * worker, dead-letter and finalizer functions, the runs and tasks tables, the
 * results bucket, completion events on EventBridge, alarms and a dashboard.
 *
 * @example
 * const pipeline = new ConveyorPipeline(stack, 'Scraping', {
 *   workerMaxConcurrency: 20,
 *   alarmEmail: 'oncall@example.com',
 * });
 */
export class ConveyorPipeline extends Construct {
  /** The props after defaults and validation, and the values derived from them. */
  readonly settings: PipelineSettings;
  readonly runsTable: Table;
  readonly tasksTable: Table;
  readonly resultsBucket: Bucket;
  readonly taskQueue: Queue;
  readonly deadLetterQueue: Queue;
  /** Stream records the finalizer gave up on. Nothing consumes it; an alarm watches it. */
  readonly finalizerFailureQueue: Queue;
  readonly worker: PipelineFunction;
  readonly deadLetterHandler: PipelineFunction;
  readonly finalizer: PipelineFunction;
  /** Where RunCompleted events are published. */
  readonly eventBus: IEventBus;
  readonly alarmTopic: Topic;
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: PipelineDashboard;

  constructor(scope: Construct, id: string, props: ConveyorPipelineProps = {}) {
    super(scope, id);

    this.settings = resolvePipelineSettings(this, props);
    const removalPolicy = this.settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const storage = new PipelineStorage(this, 'Storage', {
      retainData: this.settings.retainData,
      resultsExpiration: this.settings.resultsExpiration,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
    });
    this.runsTable = storage.runsTable;
    this.tasksTable = storage.tasksTable;
    this.resultsBucket = storage.resultsBucket;

    const queues = this.createQueues();
    this.taskQueue = queues.taskQueue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.finalizerFailureQueue = createSecureQueue(this, 'FinalizerFailureQueue', {
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');

    this.worker = this.createWorker(removalPolicy);
    this.deadLetterHandler = this.createDeadLetterHandler(removalPolicy);
    this.finalizer = this.createFinalizer(removalPolicy);

    const alarms = this.createAlarms();
    this.alarmTopic = alarms.topic;
    this.alarms = alarms.alarms;
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      serviceName: this.settings.serviceName,
      taskQueue: this.taskQueue,
      deadLetterQueue: this.deadLetterQueue,
      worker: this.worker.function,
      tables: this.namedTables(),
      alarms: Object.values(this.alarms),
    });

    this.acknowledgeFindings(props);
  }

  private createQueues(): PipelineQueues {
    return new PipelineQueues(this, 'Queues', {
      visibilityTimeout: this.settings.taskVisibilityTimeout,
      retentionPeriod: this.settings.taskRetentionPeriod,
      maxReceiveCount: this.settings.maxReceiveCount,
      deadLetterVisibilityTimeout: Duration.seconds(
        DEAD_LETTER_FUNCTION_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR,
      ),
    });
  }

  private createAlarms(): PipelineAlarms {
    return new PipelineAlarms(this, 'Alarms', {
      serviceName: this.settings.serviceName,
      alarmEmail: this.settings.alarmEmail,
      taskQueue: this.taskQueue,
      deadLetterQueue: this.deadLetterQueue,
      finalizerFailureQueue: this.finalizerFailureQueue,
      worker: this.worker.function,
      deadLetterHandler: this.deadLetterHandler.function,
      finalizer: this.finalizer.function,
      tables: this.namedTables(),
      oldestMessageAgeThreshold: this.settings.oldestMessageAgeThreshold,
      transactionConflictThreshold: this.settings.transactionConflictThreshold,
    });
  }

  private createWorker(logRemovalPolicy: RemovalPolicy): PipelineFunction {
    const settings = this.settings;
    const worker = this.createFunction('Worker', {
      handler: HANDLER_FILE.worker,
      description: 'conveyor worker: claim, fetch, store and settle each task message',
      timeout: settings.workerTimeout,
      memorySize: settings.workerMemorySize,
      logRemovalPolicy,
      environment: {
        ...this.tableEnvironment(),
        [ENV.taskQueueUrl]: this.taskQueue.queueUrl,
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.resultsBucket]: this.resultsBucket.bucketName,
        [ENV.maxAttempts]: String(settings.maxAttempts),
        [ENV.leaseMarginMs]: String(settings.leaseMarginMs),
        [ENV.fetchMaxBytes]: String(settings.fetchMaxBytes),
        ...this.gatewayEnvironment(),
      },
    });

    allow(worker.role, ['dynamodb:UpdateItem'], this.tableArns());
    allow(worker.role, ['s3:PutObject'], [this.resultsBucket.arnForObjects(`${RESULTS_PREFIX}*`)]);
    allow(worker.role, ['sqs:ChangeMessageVisibility'], [this.taskQueue.queueArn]);
    allow(worker.role, ['sqs:SendMessage'], [this.deadLetterQueue.queueArn]);
    this.grantGatewayKey(worker.role);
    worker.function.addEventSource(
      new SqsEventSource(this.taskQueue, {
        batchSize: settings.workerBatchSize,
        maxConcurrency: settings.workerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.acknowledgeObjectWildcard(worker, RESULTS_PREFIX, 'results/<runId>/<taskId>');
    acknowledgeSqsMappingDestination(
      worker,
      'a message that keeps failing moves to the dead-letter queue after maxReceiveCount ' +
        "receives, through the task queue's redrive policy.",
    );

    return worker;
  }

  private createDeadLetterHandler(logRemovalPolicy: RemovalPolicy): PipelineFunction {
    const handler = this.createFunction('DeadLetterHandler', {
      handler: HANDLER_FILE.deadLetter,
      description: 'conveyor dead-letter handler: settles dead-lettered tasks failed',
      timeout: DEAD_LETTER_FUNCTION_TIMEOUT,
      memorySize: SMALL_FUNCTION_MEMORY_MIB,
      logRemovalPolicy,
      environment: {
        ...this.tableEnvironment(),
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.resultsBucket]: this.resultsBucket.bucketName,
        [ENV.leaseMarginMs]: String(this.settings.leaseMarginMs),
      },
    });

    allow(handler.role, ['dynamodb:UpdateItem'], this.tableArns());
    allow(
      handler.role,
      ['s3:PutObject'],
      [this.resultsBucket.arnForObjects(`${DEAD_LETTER_ARCHIVE_PREFIX}*`)],
    );
    allow(handler.role, ['sqs:ChangeMessageVisibility'], [this.deadLetterQueue.queueArn]);
    handler.function.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: DEAD_LETTER_BATCH_SIZE,
        maxConcurrency: DEAD_LETTER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    this.acknowledgeObjectWildcard(
      handler,
      DEAD_LETTER_ARCHIVE_PREFIX,
      'dead-letters/<messageId>.json',
    );
    acknowledgeSqsMappingDestination(
      handler,
      'a message this function cannot settle stays on the dead-letter queue, retried until its ' +
        '14 days of retention end, and keeps the DeadLetterQueueDepth alarm raised.',
    );

    return handler;
  }

  private createFinalizer(logRemovalPolicy: RemovalPolicy): PipelineFunction {
    const finalizer = this.createFunction('Finalizer', {
      handler: HANDLER_FILE.finalizer,
      description: 'conveyor finalizer: completes runs and publishes RunCompleted',
      timeout: FINALIZER_FUNCTION_TIMEOUT,
      memorySize: SMALL_FUNCTION_MEMORY_MIB,
      logRemovalPolicy,
      environment: {
        [ENV.runsTable]: this.runsTable.tableName,
        [ENV.eventBusName]: this.eventBus.eventBusName,
      },
    });

    allow(finalizer.role, ['dynamodb:Query', 'dynamodb:UpdateItem'], [this.runsTable.tableArn]);
    this.eventBus.grantPutEventsTo(finalizer.role);
    finalizer.function.addEventSource(
      new DynamoEventSource(this.runsTable, {
        // TRIM_HORIZON, not LATEST: a mapping created (or re-created) after the
        // table would otherwise skip the settles written before it, and those
        // runs would never complete. Replaying is safe: completing is idempotent.
        startingPosition: StartingPosition.TRIM_HORIZON,
        ...FINALIZER_STREAM,
        // The handler throws for a failed batch (it reports no item failures);
        // bisecting then isolates the record that fails.
        bisectBatchOnError: true,
        onFailure: new SqsDlq(this.finalizerFailureQueue),
        filters: [
          // Every settle writes a counter shard item.
          FilterCriteria.filter({
            eventName: WRITE_EVENTS,
            dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(COUNTER_SHARD_SK_PREFIX) } } },
          }),
          // The meta item turns running after submission; if every task settled
          // before that, only this record can complete the run.
          FilterCriteria.filter({
            eventName: WRITE_EVENTS,
            dynamodb: { Keys: { sk: { S: FilterRule.isEqual(RUN_META_SK) } } },
          }),
        ],
      }),
    );

    Validations.of(finalizer.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the stream event source needs, supports no resource-level ' +
        'scoping. Every other permission of this role names its resource.',
    });

    return finalizer;
  }

  private createFunction(
    id: string,
    props: Omit<
      ConstructorParameters<typeof PipelineFunction>[2],
      'serviceName' | 'logRetention' | 'tracing'
    >,
  ): PipelineFunction {
    return new PipelineFunction(this, id, {
      ...props,
      serviceName: this.settings.serviceName,
      logRetention: this.settings.logRetention,
      tracing: this.settings.tracing,
    });
  }

  private tableEnvironment(): Record<string, string> {
    return {
      [ENV.runsTable]: this.runsTable.tableName,
      [ENV.tasksTable]: this.tasksTable.tableName,
    };
  }

  private gatewayEnvironment(): Record<string, string> {
    const gateway = this.settings.gateway;
    if (gateway === undefined) return {};
    const key: [string, string] =
      'secret' in gateway.apiKey
        ? [ENV.gatewayKeySecretId, gateway.apiKey.secret.secretArn]
        : [ENV.gatewayKeyParameterName, gateway.apiKey.parameter.parameterName];

    return { [ENV.gatewayUrlTemplate]: gateway.urlTemplate, [key[0]]: key[1] };
  }

  private grantGatewayKey(role: IRole): void {
    const apiKey = this.settings.gateway?.apiKey;
    if (apiKey === undefined) return;
    if ('secret' in apiKey) apiKey.secret.grantRead(role);
    else apiKey.parameter.grantRead(role);
  }

  private tableArns(): string[] {
    return [this.tasksTable.tableArn, this.runsTable.tableArn];
  }

  private namedTables(): Record<string, Table> {
    return { Runs: this.runsTable, Tasks: this.tasksTable };
  }

  /** The one wildcard a function's S3 access needs: object keys under its prefix. */
  private acknowledgeObjectWildcard(
    owner: PipelineFunction,
    prefix: string,
    keyShape: string,
  ): void {
    const bucket = this.resultsBucket.node.defaultChild as CfnBucket;
    const bucketId = Stack.of(this).getLogicalId(bucket);

    Validations.of(owner.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
      reason: `Object keys are ${keyShape}, made at run time; the wildcard stays inside the ${prefix} prefix.`,
    });
  }

  private acknowledgeFindings(props: ConveyorPipelineProps): void {
    Validations.of(this.finalizerFailureQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is itself a failure destination: the finalizer's stream event source sends " +
          'the records it gave up on here. Nothing consumes it; the FinalizerFailedRecords alarm ' +
          'fires on its first message.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'Nothing consumes this failure destination, so no receive can fail and redrive.',
      },
    );
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        "This is the task queue's dead-letter queue. A message its handler cannot settle stays " +
        'here, retried, for its 14 days of retention and keeps the DeadLetterQueueDepth alarm ' +
        'raised; a further queue would only hide it.',
    });
    if (props.serverAccessLogsBucket === undefined) {
      Validations.of(this.resultsBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Only the pipeline writes the results bucket, with roles scoped to its prefixes, and ' +
          'no bucket for access logs was given. Pass serverAccessLogsBucket to turn them on.',
      });
    }
  }
}

/** SQS event sources take no on-failure destination; says where failed messages go instead. */
const acknowledgeSqsMappingDestination = (owner: PipelineFunction, whereFailuresGo: string) => {
  Validations.of(owner.function).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason: `Lambda offers no on-failure destination for SQS event sources: ${whereFailuresGo}`,
  });
};

/** Adds one statement to a role: exactly these actions on exactly these resources. */
const allow = (role: IRole, actions: string[], resources: string[]): void => {
  role.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
};
