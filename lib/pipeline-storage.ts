import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_DEFINITIONS, type TableRole } from '../lambdas/domain/schema';

/** Incomplete multipart uploads are aborted after this long. */
export const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7);

export interface PipelineStorageProps {
  /** Keep tables (with deletion protection) and the bucket when the stack is deleted. */
  readonly retainData: boolean;
  /** Delete result objects this long after they were written. */
  readonly resultsExpiration: Duration | undefined;
  /** Where the results bucket's server access logs go, if anywhere. */
  readonly serverAccessLogsBucket: IBucket | undefined;
}

/**
 * The pipeline's durable state: the runs and tasks tables, keyed as the shared
 * schema says, and the results bucket.
 */
export class PipelineStorage extends Construct {
  /** Run meta and counter shard items; its stream drives the finalizer. */
  readonly runsTable: Table;
  /** One row per task. */
  readonly tasksTable: Table;
  readonly resultsBucket: Bucket;

  constructor(scope: Construct, id: string, props: PipelineStorageProps) {
    super(scope, id);

    this.runsTable = this.createTable('RunsTable', 'runs', props.retainData);
    this.tasksTable = this.createTable('TasksTable', 'tasks', props.retainData);
    this.resultsBucket = this.createResultsBucket(props);
  }

  private createTable(id: string, role: TableRole, retainData: boolean): Table {
    const definition = TABLE_DEFINITIONS[role];

    return new Table(this, id, {
      partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
      sortKey: { name: definition.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A KMS key of the account, so every use of it shows in CloudTrail.
      encryption: TableEncryption.AWS_MANAGED,
      stream: definition.stream ? StreamViewType.NEW_AND_OLD_IMAGES : undefined,
      deletionProtection: retainData,
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  private createResultsBucket(props: PipelineStorageProps): Bucket {
    return new Bucket(this, 'ResultsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? 'conveyor-results/' : undefined,
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
          expiration: props.resultsExpiration,
        },
      ],
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retainData,
    });
  }
}
