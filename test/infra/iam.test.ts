import { Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { ENV } from '../../lambdas/config';
import type { PipelineFunction } from '../../lib/pipeline-function';
import {
  buildPipeline,
  logicalIdOf,
  propertiesOf,
  synthesizePipeline,
  type ResourceProperties,
} from './synth';

const GATEWAY_TEMPLATE = 'https://gateway.example/scrape?key={key}&url={url}';

interface Grant {
  readonly action: string;
  readonly resource: unknown;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every (action, resource) pair the role's policies allow. */
const grantsOf = (template: Template, role: IRole): Grant[] => {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: logicalIdOf(role) }] },
  });

  return Object.values(policies).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as ResourceProperties[])
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap((statement) =>
        asList(statement.Action as string | string[]).flatMap((action) =>
          asList(statement.Resource).map((resource) => ({ action, resource })),
        ),
      ),
  );
};

/** The role's grants as action → resources, with resources rendered as JSON for comparison. */
const grantTable = (template: Template, role: IRole): Record<string, string[]> => {
  const table: Record<string, string[]> = {};
  for (const { action, resource } of grantsOf(template, role)) {
    (table[action] ??= []).push(JSON.stringify(resource));
  }
  for (const resources of Object.values(table)) resources.sort();

  return table;
};

/** True when a grant of the role allows `action` (IAM wildcards honoured) on a matching resource. */
const allows = (
  template: Template,
  role: IRole,
  action: string,
  resource: (rendered: string) => boolean = () => true,
): boolean =>
  grantsOf(template, role).some(
    (grant) =>
      new RegExp(`^${grant.action.replace(/\*/g, '.*')}$`).test(action) &&
      resource(JSON.stringify(grant.resource)),
  );

const arn = (construct: Parameters<typeof logicalIdOf>[0], attribute = 'Arn') =>
  JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(construct), attribute] });

const objectsUnder = (bucket: Parameters<typeof logicalIdOf>[0], prefix: string) =>
  JSON.stringify({ 'Fn::Join': ['', [JSON.parse(arn(bucket)), `/${prefix}*`]] });

const logWrites = (fn: PipelineFunction) => ({
  'logs:CreateLogStream': [arn(fn.logGroup)],
  'logs:PutLogEvents': [arn(fn.logGroup)],
});

const queueConsumption = (queue: Parameters<typeof logicalIdOf>[0]) => ({
  'sqs:ReceiveMessage': [arn(queue)],
  'sqs:GetQueueUrl': [arn(queue)],
  'sqs:DeleteMessage': [arn(queue)],
  'sqs:GetQueueAttributes': [arn(queue)],
});

describe('worker role', () => {
  it('allows exactly the writes, sends and queue operations the worker makes', () => {
    const { template, pipeline } = synthesizePipeline();

    expect(grantTable(template, pipeline.worker.role)).toEqual({
      ...logWrites(pipeline.worker),
      ...queueConsumption(pipeline.taskQueue),
      'dynamodb:UpdateItem': [arn(pipeline.runsTable), arn(pipeline.tasksTable)].sort(),
      's3:PutObject': [objectsUnder(pipeline.resultsBucket, 'results/')],
      'sqs:ChangeMessageVisibility': [arn(pipeline.taskQueue), arn(pipeline.taskQueue)],
      'sqs:SendMessage': [arn(pipeline.deadLetterQueue)],
    });
  });

  it('cannot delete a table or read the dead-letter queue', () => {
    const { template, pipeline } = synthesizePipeline();
    const role = pipeline.worker.role;

    expect(allows(template, role, 'dynamodb:DeleteTable')).toBe(false);
    expect(allows(template, role, 'dynamodb:DeleteItem')).toBe(false);
    expect(allows(template, role, 'dynamodb:Scan')).toBe(false);
    expect(
      allows(template, role, 'sqs:ReceiveMessage', (r) => r === arn(pipeline.deadLetterQueue)),
    ).toBe(false);
    expect(allows(template, role, 's3:GetObject')).toBe(false);
  });

  it('detects a broad table and dead-letter grant once one is added (control for the test above)', () => {
    const { stack, pipeline } = buildPipeline();
    pipeline.runsTable.grantFullAccess(pipeline.worker.role);
    pipeline.deadLetterQueue.grantConsumeMessages(pipeline.worker.role);
    const template = Template.fromStack(stack);
    const role = pipeline.worker.role;

    expect(allows(template, role, 'dynamodb:DeleteTable')).toBe(true);
    expect(
      allows(template, role, 'sqs:ReceiveMessage', (r) => r === arn(pipeline.deadLetterQueue)),
    ).toBe(true);
  });

  it('has no managed policies', () => {
    const { template, pipeline } = synthesizePipeline();

    for (const fn of [pipeline.worker, pipeline.deadLetterHandler, pipeline.finalizer]) {
      expect(propertiesOf(template, fn.role).ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('dead-letter handler role', () => {
  it('allows settling tasks, archiving under dead-letters/ and consuming the dead-letter queue', () => {
    const { template, pipeline } = synthesizePipeline();
    const handler = pipeline.deadLetterHandler;

    expect(grantTable(template, handler.role)).toEqual({
      ...logWrites(handler),
      ...queueConsumption(pipeline.deadLetterQueue),
      'dynamodb:UpdateItem': [arn(pipeline.runsTable), arn(pipeline.tasksTable)].sort(),
      's3:PutObject': [objectsUnder(pipeline.resultsBucket, 'dead-letters/')],
      'sqs:ChangeMessageVisibility': [arn(pipeline.deadLetterQueue), arn(pipeline.deadLetterQueue)],
    });
  });
});

describe('finalizer role', () => {
  it('allows querying and updating the runs table, reading its stream and publishing events', () => {
    const { template, pipeline } = synthesizePipeline();
    const finalizer = pipeline.finalizer;
    const stream = arn(pipeline.runsTable, 'StreamArn');
    const failures = arn(pipeline.finalizerFailureQueue);

    const grants = grantTable(template, finalizer.role);
    expect(grants).toEqual({
      ...logWrites(finalizer),
      'dynamodb:Query': [arn(pipeline.runsTable)],
      'dynamodb:UpdateItem': [arn(pipeline.runsTable)],
      'dynamodb:DescribeStream': [stream],
      'dynamodb:GetRecords': [stream],
      'dynamodb:GetShardIterator': [stream],
      'dynamodb:ListStreams': ['"*"'],
      'events:PutEvents': [expect.stringContaining(':event-bus/default')],
      'sqs:SendMessage': [failures],
      'sqs:GetQueueAttributes': [failures],
      'sqs:GetQueueUrl': [failures],
    });
  });

  it('grants no other action on every resource than ListStreams', () => {
    const { template, pipeline } = synthesizePipeline();

    const unscoped = grantsOf(template, pipeline.finalizer.role).filter(
      (grant) => grant.resource === '*',
    );
    expect(unscoped).toEqual([{ action: 'dynamodb:ListStreams', resource: '*' }]);
  });

  it('cannot touch the tasks table', () => {
    const { template, pipeline } = synthesizePipeline();

    const tasksTable = (rendered: string) => rendered.includes(logicalIdOf(pipeline.tasksTable));
    expect(allows(template, pipeline.finalizer.role, 'dynamodb:UpdateItem', tasksTable)).toBe(
      false,
    );
    expect(allows(template, pipeline.finalizer.role, 'dynamodb:Query', tasksTable)).toBe(false);
  });
});

describe('gateway key', () => {
  const secretOrParameterActions = /^(secretsmanager|ssm|kms):/;

  it('is readable by nobody when no gateway is set', () => {
    const { template, pipeline } = synthesizePipeline();

    for (const fn of [pipeline.worker, pipeline.deadLetterHandler, pipeline.finalizer]) {
      const actions = grantsOf(template, fn.role).map((grant) => grant.action);
      expect(actions.filter((action) => secretOrParameterActions.test(action))).toEqual([]);
    }
  });

  it('is readable by the worker alone, from the given secret', () => {
    let secret: Secret | undefined;
    const { template, pipeline } = synthesizePipeline((stack) => {
      secret = new Secret(stack, 'GatewayKey');

      return { gateway: { urlTemplate: GATEWAY_TEMPLATE, apiKey: { secret } } };
    });

    const workerGrants = grantTable(template, pipeline.worker.role);
    expect(workerGrants['secretsmanager:GetSecretValue']).toEqual([
      JSON.stringify({ Ref: logicalIdOf(secret!) }),
    ]);
    expect(Object.keys(workerGrants).filter((a) => a.startsWith('ssm:'))).toEqual([]);
    const variables = propertiesOf(template, pipeline.worker.function).Environment.Variables;
    expect(variables[ENV.gatewayUrlTemplate]).toBe(GATEWAY_TEMPLATE);
    expect(variables[ENV.gatewayKeySecretId]).toEqual({ Ref: logicalIdOf(secret!) });
    expect(variables[ENV.gatewayKeyParameterName]).toBeUndefined();
    for (const fn of [pipeline.deadLetterHandler, pipeline.finalizer]) {
      expect(allows(template, fn.role, 'secretsmanager:GetSecretValue')).toBe(false);
    }
  });

  it('is readable by the worker from the given parameter', () => {
    const { template, pipeline } = synthesizePipeline((stack) => ({
      gateway: {
        urlTemplate: GATEWAY_TEMPLATE,
        apiKey: {
          parameter: StringParameter.fromSecureStringParameterAttributes(stack, 'Key', {
            parameterName: '/gateway/key',
          }),
        },
      },
    }));

    const workerGrants = grantTable(template, pipeline.worker.role);
    expect(workerGrants['ssm:GetParameter']).toEqual([
      expect.stringContaining(':parameter/gateway/key'),
    ]);
    expect(Object.keys(workerGrants).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    const variables = propertiesOf(template, pipeline.worker.function).Environment.Variables;
    expect(variables[ENV.gatewayKeyParameterName]).toBe('/gateway/key');
    expect(variables[ENV.gatewayKeySecretId]).toBeUndefined();
  });

  it('refuses a template without a place for the key', () => {
    const act = () =>
      buildPipeline((stack) => ({
        gateway: {
          urlTemplate: 'https://gateway.example/scrape?url={url}',
          apiKey: { secret: new Secret(stack, 'GatewayKey') },
        },
      }));

    expect(act).toThrow(/gateway.urlTemplate must contain \{url\} and \{key\}/);
  });

  it('refuses a plain-http gateway, which would send the key in clear', () => {
    const act = () =>
      buildPipeline((stack) => ({
        gateway: {
          urlTemplate: 'http://gateway.example/scrape?key={key}&url={url}',
          apiKey: { secret: new Secret(stack, 'GatewayKey') },
        },
      }));

    expect(act).toThrow(/gateway.urlTemplate must start with https:\/\//);
  });
});
