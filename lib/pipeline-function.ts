import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../lambdas/metrics';

/** The repository root: handlers are bundled from here, against its lock file. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The Node.js runtime of every function: the newest one aws-cdk-lib offers. */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/** The three Lambda entry points, files under lambdas/handlers. */
export const HANDLER_FILE = {
  worker: 'worker',
  deadLetter: 'dead-letter',
  finalizer: 'finalizer',
} as const;

export type HandlerFile = (typeof HANDLER_FILE)[keyof typeof HANDLER_FILE];

/** The path of a handler's entry file. */
export const handlerEntry = (handler: HandlerFile): string =>
  path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${handler}.ts`);

export interface PipelineFunctionProps {
  /** The handler file bundled as the function's code. */
  readonly handler: HandlerFile;
  readonly description: string;
  readonly timeout: Duration;
  /** Memory in MiB. */
  readonly memorySize: number;
  /** Settings of the handler, by ENV name; the Powertools settings are added here. */
  readonly environment: Readonly<Record<string, string>>;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of the custom metrics. */
  readonly serviceName: string;
  readonly logRetention: RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing: boolean;
}

/**
 * One of the pipeline's functions: an arm64 NodejsFunction bundled by the
 * local esbuild (no Docker), with its own log group and retention, and its own
 * role that starts with nothing but writing to that log group. Every other
 * permission is granted by the pipeline, resource by resource.
 */
export class PipelineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the conveyor ${props.handler} function`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.handler),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK versions the tests ran against go into the bundle, instead of
        // whichever versions the runtime happens to carry.
        bundleAwsSDK: true,
      },
    });

    this.acknowledgeFindings(props);
  }

  private acknowledgeFindings(props: PipelineFunctionProps): void {
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Only event source mappings invoke this function, synchronously; a DeadLetterConfig ' +
        'applies to asynchronous invocations alone. Failed records are handled by the ' +
        "mapping's own dead-letter queue or on-failure destination.",
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level scoping.',
      });
    } else {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'Tracing is off by default: a run fans out to as many invocations as it has tasks, and ' +
          "the pipeline's health is carried by its custom metrics, alarms and structured logs. " +
          'Set the tracing prop to turn X-Ray on.',
      });
    }
  }
}
