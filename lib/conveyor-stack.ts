import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ConveyorPipeline } from './conveyor-pipeline';
import type { ConveyorPipelineProps } from './pipeline-props';
import { STACK_OUTPUT, type StackOutputKey } from './stack-outputs';

export interface ConveyorStackProps extends StackProps {
  /**
   * Settings of the pipeline the stack holds.
   *
   * @default every pipeline default
   */
  readonly pipeline?: ConveyorPipelineProps;
}

/**
 * The stack `cdk deploy` creates: one {@link ConveyorPipeline}, and the
 * outputs the `conveyor` CLI reads to find its tables, queues and bucket.
 */
export class ConveyorStack extends Stack {
  readonly pipeline: ConveyorPipeline;

  constructor(scope: Construct, id: string, props: ConveyorStackProps = {}) {
    super(scope, id, props);

    this.pipeline = new ConveyorPipeline(this, 'Pipeline', props.pipeline);
    const pipeline = this.pipeline;

    this.output(STACK_OUTPUT.runsTableName, pipeline.runsTable.tableName, 'Runs table');
    this.output(STACK_OUTPUT.tasksTableName, pipeline.tasksTable.tableName, 'Tasks table');
    this.output(STACK_OUTPUT.taskQueueUrl, pipeline.taskQueue.queueUrl, 'Task queue');
    this.output(
      STACK_OUTPUT.deadLetterQueueUrl,
      pipeline.deadLetterQueue.queueUrl,
      'Dead-letter queue of the task queue',
    );
    this.output(
      STACK_OUTPUT.resultsBucketName,
      pipeline.resultsBucket.bucketName,
      'Bucket of task results',
    );
    this.output(
      STACK_OUTPUT.alarmTopicArn,
      pipeline.alarmTopic.topicArn,
      'Topic the alarms send to',
    );
    this.output(
      STACK_OUTPUT.eventBusName,
      pipeline.eventBus.eventBusName,
      'Bus of RunCompleted events',
    );
    this.output(
      STACK_OUTPUT.serviceName,
      pipeline.settings.serviceName,
      'service metric dimension',
    );
    this.output(
      STACK_OUTPUT.dashboardName,
      pipeline.dashboard.dashboard.dashboardName,
      'CloudWatch dashboard',
    );
    this.output(
      STACK_OUTPUT.finalizerFailureQueueUrl,
      pipeline.finalizerFailureQueue.queueUrl,
      'Stream records the finalizer gave up on',
    );
  }

  private output(key: StackOutputKey, value: string, description: string): void {
    new CfnOutput(this, key, { value, description });
  }
}
