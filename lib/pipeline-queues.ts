import type { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION } from './pipeline-settings';

/**
 * A queue as every queue of the pipeline is made: encrypted at rest with
 * SQS-managed keys (no key policy to keep in step with its producers) and
 * refusing any request that is not over TLS.
 */
export const createSecureQueue = (scope: Construct, id: string, props: QueueProps = {}): Queue =>
  new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...props,
  });

export interface PipelineQueuesProps {
  readonly visibilityTimeout: Duration;
  readonly retentionPeriod: Duration;
  readonly maxReceiveCount: number;
  /** Visibility timeout of the dead-letter queue: six times the dead-letter function's timeout. */
  readonly deadLetterVisibilityTimeout: Duration;
}

/** The task queue and the dead-letter queue it redrives to. */
export class PipelineQueues extends Construct {
  /** One message per task; the worker consumes it. */
  readonly taskQueue: Queue;
  /** Messages that used up their receives, and poison the worker forwards. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: PipelineQueuesProps) {
    super(scope, id);

    this.deadLetterQueue = createSecureQueue(this, 'DeadLetterQueue', {
      retentionPeriod: DEAD_LETTER_RETENTION,
      visibilityTimeout: props.deadLetterVisibilityTimeout,
    });
    this.taskQueue = createSecureQueue(this, 'TaskQueue', {
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retentionPeriod,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
