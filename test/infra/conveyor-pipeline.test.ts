import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ENV } from '../../lambdas/config';
import { COUNTER_SHARD_SK_PREFIX, RUN_META_SK } from '../../lambdas/domain/schema';
import { METRIC_NAMESPACE } from '../../lambdas/metrics';
import { PipelineConfigurationError } from '../../lib/errors';
import { FUNCTION_RUNTIME } from '../../lib/pipeline-function';
import { buildPipeline, logicalIdOf, propertiesOf, synthesizePipeline } from './synth';

const secureTransportDenial = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('task queue and dead-letter queue', () => {
  it('sets the visibility timeout to six worker timeouts by default', () => {
    const { template, pipeline } = synthesizePipeline({ workerTimeout: Duration.seconds(90) });

    expect(propertiesOf(template, pipeline.taskQueue).VisibilityTimeout).toBe(540);
  });

  it('refuses a visibility timeout below six worker timeouts, at the pipeline’s path', () => {
    const act = () =>
      buildPipeline({
        workerTimeout: Duration.seconds(90),
        taskVisibilityTimeout: Duration.seconds(300),
      });

    expect(act).toThrow(PipelineConfigurationError);
    expect(act).toThrow(
      /^TestStack\/Pipeline: taskVisibilityTimeout must be whole seconds from 9 minutes/,
    );
  });

  it('redrives to the dead-letter queue after the derived receive limit', () => {
    const { template, pipeline } = synthesizePipeline({ maxAttempts: 5 });

    expect(propertiesOf(template, pipeline.taskQueue).RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 15,
    });
  });

  it('keeps dead letters longer than task messages', () => {
    const { template, pipeline } = synthesizePipeline({ taskRetentionPeriod: Duration.days(10) });

    const taskRetention = propertiesOf(template, pipeline.taskQueue).MessageRetentionPeriod;
    const deadLetterRetention = propertiesOf(
      template,
      pipeline.deadLetterQueue,
    ).MessageRetentionPeriod;
    expect(taskRetention).toBe(10 * 86_400);
    expect(deadLetterRetention).toBe(14 * 86_400);
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    const { template, pipeline } = synthesizePipeline();

    const queues = [pipeline.taskQueue, pipeline.deadLetterQueue, pipeline.finalizerFailureQueue];
    for (const queue of queues) {
      expect(propertiesOf(template, queue).SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(queue) }],
        PolicyDocument: { Statement: Match.arrayWith([secureTransportDenial]) },
      });
    }
  });
});

describe('worker', () => {
  it('consumes the task queue with partial batch responses, batch size and concurrency', () => {
    const { template, pipeline } = synthesizePipeline({
      workerBatchSize: 4,
      workerMaxConcurrency: 25,
    });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.taskQueue), 'Arn'] },
      FunctionName: { Ref: logicalIdOf(pipeline.worker.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 4,
      ScalingConfig: { MaximumConcurrency: 25 },
    });
  });

  it('runs on arm64 with the newest Node.js runtime, its log group kept for the set retention', () => {
    const { template, pipeline } = synthesizePipeline({ logRetention: RetentionDays.ONE_MONTH });

    expect(propertiesOf(template, pipeline.worker.function)).toMatchObject({
      Runtime: FUNCTION_RUNTIME.name,
      Architectures: ['arm64'],
      Timeout: 60,
      MemorySize: 512,
      LoggingConfig: { LogGroup: { Ref: logicalIdOf(pipeline.worker.logGroup) } },
    });
    expect(propertiesOf(template, pipeline.worker.logGroup).RetentionInDays).toBe(30);
  });

  it('gets its settings from the ENV names, with the lease margin derived from its timeout', () => {
    const { template, pipeline } = synthesizePipeline({
      workerTimeout: Duration.minutes(3),
      maxAttempts: 4,
      fetchMaxBytes: 1024 * 1024,
      serviceName: 'scraper',
    });

    expect(propertiesOf(template, pipeline.worker.function).Environment.Variables).toEqual({
      [ENV.runsTable]: { Ref: logicalIdOf(pipeline.runsTable) },
      [ENV.tasksTable]: { Ref: logicalIdOf(pipeline.tasksTable) },
      [ENV.taskQueueUrl]: { Ref: logicalIdOf(pipeline.taskQueue) },
      [ENV.deadLetterQueueUrl]: { Ref: logicalIdOf(pipeline.deadLetterQueue) },
      [ENV.resultsBucket]: { Ref: logicalIdOf(pipeline.resultsBucket) },
      [ENV.maxAttempts]: '4',
      [ENV.leaseMarginMs]: '18000',
      [ENV.fetchMaxBytes]: '1048576',
      POWERTOOLS_SERVICE_NAME: 'scraper',
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('tracing', () => {
  it('is off unless asked for, then active on every function with X-Ray writes granted', () => {
    const off = synthesizePipeline();
    const on = synthesizePipeline({ tracing: true });

    for (const name of ['worker', 'deadLetterHandler', 'finalizer'] as const) {
      const fn = (built: typeof off) => propertiesOf(built.template, built.pipeline[name].function);
      expect(fn(off).TracingConfig).toBeUndefined();
      expect(fn(on).TracingConfig).toEqual({ Mode: 'Active' });
    }
    on.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(on.pipeline.worker.role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] }),
        ]),
      },
    });
  });
});

describe('dead-letter handler', () => {
  it('consumes the dead-letter queue with partial batch responses', () => {
    const { template, pipeline } = synthesizePipeline();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.deadLetterQueue), 'Arn'] },
      FunctionName: { Ref: logicalIdOf(pipeline.deadLetterHandler.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the dead-letter queue a visibility timeout of six handler timeouts', () => {
    const { template, pipeline } = synthesizePipeline();

    const handlerTimeout = propertiesOf(template, pipeline.deadLetterHandler.function).Timeout;
    const visibility = propertiesOf(template, pipeline.deadLetterQueue).VisibilityTimeout;
    expect(visibility).toBe(6 * handlerTimeout);
  });
});

describe('finalizer', () => {
  it('reads the runs table stream, filtered to counter shard and meta writes', () => {
    const { template, pipeline } = synthesizePipeline();

    const mapping = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: { Ref: logicalIdOf(pipeline.finalizer.function) } },
    });
    const [properties] = Object.values(mapping).map((resource) => resource.Properties);
    const patterns = properties.FilterCriteria.Filters.map((filter: { Pattern: string }) =>
      JSON.parse(filter.Pattern),
    );
    expect(properties.EventSourceArn).toEqual({
      'Fn::GetAtt': [logicalIdOf(pipeline.runsTable), 'StreamArn'],
    });
    expect(patterns).toEqual([
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { Keys: { sk: { S: [{ prefix: COUNTER_SHARD_SK_PREFIX }] } } },
      },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { sk: { S: [RUN_META_SK] } } } },
    ]);
  });

  it('bisects failing batches, retries a bounded number of times, then sends to its failure queue', () => {
    const { template, pipeline } = synthesizePipeline();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalIdOf(pipeline.finalizer.function) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [logicalIdOf(pipeline.finalizerFailureQueue), 'Arn'] },
        },
      },
    });
  });

  it('publishes on the default bus unless given one', () => {
    let bus: EventBus | undefined;
    const withDefault = synthesizePipeline();
    const withBus = synthesizePipeline((stack) => {
      bus = new EventBus(stack, 'Bus', { eventBusName: 'runs' });

      return { eventBus: bus };
    });

    const variables = (built: typeof withDefault) =>
      propertiesOf(built.template, built.pipeline.finalizer.function).Environment.Variables;
    expect(variables(withDefault)[ENV.eventBusName]).toBe('default');
    expect(variables(withBus)[ENV.eventBusName]).toEqual({ Ref: logicalIdOf(bus!) });
  });
});

describe('tables', () => {
  it('bills on demand, encrypts, recovers to a point in time and keeps data by default', () => {
    const { template, pipeline } = synthesizePipeline();

    for (const table of [pipeline.runsTable, pipeline.tasksTable]) {
      expect(template.toJSON().Resources[logicalIdOf(table)]).toMatchObject({
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  it('streams new and old images of the runs table only', () => {
    const { template, pipeline } = synthesizePipeline();

    expect(propertiesOf(template, pipeline.runsTable)).toMatchObject({
      KeySchema: [
        { AttributeName: 'runId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(propertiesOf(template, pipeline.tasksTable).StreamSpecification).toBeUndefined();
  });

  it('drops deletion protection and retention for throwaway stacks', () => {
    const { template } = synthesizePipeline({ retainData: false });

    template.allResources('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });
});

describe('results bucket', () => {
  it('blocks public access, encrypts, and refuses requests without TLS', () => {
    const { template, pipeline } = synthesizePipeline();

    expect(propertiesOf(template, pipeline.resultsBucket)).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(pipeline.resultsBucket) },
      PolicyDocument: { Statement: Match.arrayWith([secureTransportDenial]) },
    });
  });

  it('expires results only when asked', () => {
    const kept = synthesizePipeline();
    const expiring = synthesizePipeline({ resultsExpiration: Duration.days(30) });

    const rules = (built: typeof kept) =>
      propertiesOf(built.template, built.pipeline.resultsBucket).LifecycleConfiguration.Rules;
    expect(rules(kept)[0].ExpirationInDays).toBeUndefined();
    expect(rules(expiring)[0].ExpirationInDays).toBe(30);
  });

  it('is retained by default and emptied then deleted for throwaway stacks', () => {
    const kept = synthesizePipeline();
    const throwaway = synthesizePipeline({ retainData: false });

    kept.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    kept.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    throwaway.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    throwaway.template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});
