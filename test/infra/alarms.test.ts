import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { METRIC, METRIC_NAMESPACE } from '../../lambdas/metrics';
import { ALARM } from '../../lib/pipeline-alarms';
import { logicalIdOf, propertiesOf, synthesizePipeline, type ResourceProperties } from './synth';

const SERVICE = 'scraper';

const alarmOf = (built: ReturnType<typeof synthesizePipeline>, id: string) => {
  const alarm = built.pipeline.alarms[id];
  if (alarm === undefined) throw new Error(`No alarm ${id}`);

  return propertiesOf(built.template, alarm);
};

const atLeast = (threshold: number, evaluationPeriods = 1) => ({
  Threshold: threshold,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  EvaluationPeriods: evaluationPeriods,
  TreatMissingData: 'notBreaching',
});

describe('alarms', () => {
  it('raises on one invariant violation of this pipeline’s service', () => {
    const built = synthesizePipeline({ serviceName: SERVICE });

    expect(alarmOf(built, ALARM.invariantViolations)).toMatchObject({
      ...atLeast(1),
      Namespace: METRIC_NAMESPACE,
      MetricName: METRIC.invariantViolations,
      Dimensions: [{ Name: 'service', Value: SERVICE }],
      Statistic: 'Sum',
      Period: 60,
    });
  });

  it('raises on one message in the dead-letter queue, visible, in flight or received', () => {
    const built = synthesizePipeline();
    const queueName = { 'Fn::GetAtt': [logicalIdOf(built.pipeline.deadLetterQueue), 'QueueName'] };

    const alarm = alarmOf(built, ALARM.deadLetterQueueDepth);
    expect(alarm).toMatchObject(atLeast(1));
    expect(alarm.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'visible + inFlight + received', ReturnData: true }),
        expect.objectContaining({
          Id: 'visible',
          MetricStat: expect.objectContaining({
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [{ Name: 'QueueName', Value: queueName }],
            },
            Stat: 'Maximum',
            Period: 60,
          }),
        }),
        expect.objectContaining({
          Id: 'inFlight',
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({
              MetricName: 'ApproximateNumberOfMessagesNotVisible',
            }),
          }),
        }),
        expect.objectContaining({
          Id: 'received',
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ MetricName: 'NumberOfMessagesReceived' }),
            Stat: 'Sum',
          }),
        }),
      ]),
    );
  });

  it.each([
    [ALARM.workerErrors, 'worker'],
    [ALARM.deadLetterHandlerErrors, 'deadLetterHandler'],
    [ALARM.finalizerErrors, 'finalizer'],
  ] as const)('%s raises on one failed invocation in five minutes', (id, functionKey) => {
    const built = synthesizePipeline();

    expect(alarmOf(built, id)).toMatchObject({
      ...atLeast(1),
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalIdOf(built.pipeline[functionKey].function) } },
      ],
      Statistic: 'Sum',
      Period: 300,
    });
  });

  it('raises when the oldest task message is older than the threshold', () => {
    const built = synthesizePipeline({ oldestMessageAgeThreshold: Duration.minutes(30) });

    expect(alarmOf(built, ALARM.oldestTaskAge)).toMatchObject({
      ...atLeast(1800),
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(built.pipeline.taskQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
    });
  });

  it('raises on one stream record the finalizer gave up on', () => {
    const built = synthesizePipeline();

    expect(alarmOf(built, ALARM.finalizerFailedRecords)).toMatchObject({
      ...atLeast(1),
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [logicalIdOf(built.pipeline.finalizerFailureQueue), 'QueueName'],
          },
        },
      ],
    });
  });

  it.each(['Runs', 'Tasks'] as const)(
    'raises on transaction conflicts and sustained throttling of the %s table',
    (name) => {
      const built = synthesizePipeline({ transactionConflictThreshold: 250 });
      const table = name === 'Runs' ? built.pipeline.runsTable : built.pipeline.tasksTable;
      const tableName = [{ Name: 'TableName', Value: { Ref: logicalIdOf(table) } }];

      expect(alarmOf(built, `${name}${ALARM.transactionConflicts}`)).toMatchObject({
        ...atLeast(250),
        Namespace: 'AWS/DynamoDB',
        MetricName: 'TransactionConflict',
        Dimensions: tableName,
        Statistic: 'Sum',
        Period: 300,
      });
      const throttles = alarmOf(built, `${name}${ALARM.throttles}`);
      expect(throttles).toMatchObject(atLeast(1, 2));
      const throttleMetrics = (throttles.Metrics as ResourceProperties[]).filter(
        (metric) => 'MetricStat' in metric,
      );
      expect(throttleMetrics.map((metric) => metric.MetricStat.Metric)).toEqual([
        { Namespace: 'AWS/DynamoDB', MetricName: 'ReadThrottleEvents', Dimensions: tableName },
        { Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents', Dimensions: tableName },
      ]);
    },
  );

  it('sends every alarm and its return to OK to the alarm topic', () => {
    const built = synthesizePipeline();
    const topic = { Ref: logicalIdOf(built.pipeline.alarmTopic) };

    built.template.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    built.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topic],
      OKActions: [topic],
      AlarmDescription: Match.stringLikeRegexp('.+'),
    });
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotating key that CloudWatch may use for this account’s alarms', () => {
    const built = synthesizePipeline();
    const topic = propertiesOf(built.template, built.pipeline.alarmTopic);
    const keyId = topic.KmsMasterKeyId['Fn::GetAtt'][0];

    built.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: Match.objectLike({
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              }),
            }),
          ]),
        },
      }),
    });
    expect(built.template.toJSON().Resources[keyId].Type).toBe('AWS::KMS::Key');
  });

  it('lets CloudWatch publish and refuses requests without TLS', () => {
    const built = synthesizePipeline();

    built.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalIdOf(built.pipeline.alarmTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
  });

  it('subscribes the alarm e-mail only when one is given', () => {
    const without = synthesizePipeline();
    const withEmail = synthesizePipeline({ alarmEmail: 'oncall@example.com' });

    without.template.resourceCountIs('AWS::SNS::Subscription', 0);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: logicalIdOf(withEmail.pipeline.alarmTopic) },
    });
  });
});

describe('dashboard', () => {
  it('graphs the flow, the gateway, the queues and the tables of this service', () => {
    const built = synthesizePipeline({ serviceName: SERVICE });
    const body = JSON.stringify(
      Stack.of(built.pipeline).resolve(
        propertiesOf(built.template, built.pipeline.dashboard.dashboard).DashboardBody,
      ),
    );

    expect(propertiesOf(built.template, built.pipeline.dashboard.dashboard).DashboardName).toBe(
      `conveyor-${SERVICE}`,
    );
    for (const name of [
      METRIC.deliveries,
      METRIC.settledSuccessful,
      METRIC.suppressedDuplicates,
      METRIC.leaseDeferrals,
      METRIC.fetchLatency,
      METRIC.fetchSucceeded,
      METRIC.fetchRetryableFailures,
      METRIC.fetchPermanentFailures,
      'ApproximateNumberOfMessagesVisible',
      'TransactionConflict',
      'WriteThrottleEvents',
    ]) {
      expect(body).toContain(`\\"${name}\\"`);
    }
    expect(body).toContain(`\\"service\\",\\"${SERVICE}\\"`);
    expect(body).toContain('p99');
  });
});
