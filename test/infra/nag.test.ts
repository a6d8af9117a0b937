import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagMessageLevel, NagPack, rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { addNagPacks, buildPipeline, synthesizePipeline, testApp, type PropsFor } from './synth';

/** cdk-nag's rule that the event source's queue hides messages for six function timeouts. */
class QueueTimingChecks extends NagPack {
  public readonly name = 'QueueTiming';

  constructor(scope?: IConstruct) {
    super(scope);
    this.packName = 'QueueTiming';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      info: 'The event source queue hides messages for less than six function timeouts.',
      explanation: 'A retried invocation would find its messages already redelivered.',
      level: NagMessageLevel.ERROR,
      rule: rules.lambda.LambdaEventSourceSQSVisibilityTimeout,
      node,
    });
  }
}

/**
 * Every acknowledgment recorded in the stack: rule id and reason. aws-cdk-lib
 * records an unqualified rule id as `Annotation::<id>`; cdk-nag reads it so.
 */
const acknowledgmentsIn = (stack: Stack): Array<{ id: string; reason: string }> =>
  stack.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) =>
      Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
        id: id.replace(/^annotation::/i, ''),
        reason,
      })),
    );

describe('cdk-nag AwsSolutions and Serverless packs', () => {
  it.each<[string, PropsFor]>([
    ['the defaults', {}],
    ['a throwaway stack', { retainData: false, resultsExpiration: Duration.days(7) }],
    [
      'tracing, an alarm e-mail, a gateway secret and access logs',
      (stack) => ({
        tracing: true,
        alarmEmail: 'oncall@example.com',
        serverAccessLogsBucket: Bucket.fromBucketName(stack, 'AccessLogs', 'access-logs'),
        gateway: {
          urlTemplate: 'https://gateway.example/scrape?key={key}&url={url}',
          apiKey: { secret: Secret.fromSecretNameV2(stack, 'GatewayKey', 'gateway-key') },
        },
      }),
    ],
  ])('find nothing unacknowledged with %s', (_case, props) => {
    expect(() => synthesizePipeline(props, { nag: true })).not.toThrow();
  });

  it('fail the synthesis on a finding (control for the tests above)', () => {
    const { app, stack } = buildPipeline();
    new Queue(stack, 'PlainQueue');
    addNagPacks(app);

    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-SQS4/);
  });

  it('are acknowledged only for the rules reviewed here, each with its reason', () => {
    const { stack } = buildPipeline({ tracing: true, alarmEmail: 'oncall@example.com' });

    const acknowledgments = acknowledgmentsIn(stack);
    const ids = [...new Set(acknowledgments.map(({ id }) => id.replace(/\[.*\]$/, '')))].sort();
    expect(ids).toEqual(
      [
        'AwsSolutions-IAM5',
        'AwsSolutions-S1',
        'AwsSolutions-SQS3',
        'Serverless-LambdaDLQ',
        'Serverless-LambdaEventSourceMappingDestination',
        'Serverless-SNSRedrivePolicy',
        'Serverless-SQSRedrivePolicy',
      ].sort(),
    );
    for (const { reason } of acknowledgments) expect(reason.length).toBeGreaterThan(40);
  });
});

describe('visibility timeout rule of cdk-nag', () => {
  it('finds the pipeline’s queues hide messages for six function timeouts', () => {
    const { app, stack } = buildPipeline({ workerTimeout: Duration.minutes(5) });
    Validations.of(app).addPlugins(new QueueTimingChecks(app));

    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('finds a queue that hides messages for one function timeout (control)', () => {
    const app = testApp();
    const stack = new Stack(app, 'Control');
    const consumer = new LambdaFunction(stack, 'Consumer', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => {};'),
      timeout: Duration.minutes(1),
    });
    consumer.addEventSource(
      new SqsEventSource(new Queue(stack, 'Queue', { visibilityTimeout: Duration.minutes(1) })),
    );
    Validations.of(app).addPlugins(new QueueTimingChecks(app));

    expect(() => Template.fromStack(stack)).toThrow(/LambdaEventSourceSQSVisibilityTimeout/);
  });
});
