/**
 * Output keys of the deployed stack. The CLI reads the stack's outputs by
 * these keys, so they are the contract between `cdk deploy` and `conveyor`.
 * Kept free of CDK imports so the CLI can import it cheaply.
 */
export const STACK_OUTPUT = {
  runsTableName: 'RunsTableName',
  tasksTableName: 'TasksTableName',
  taskQueueUrl: 'TaskQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  resultsBucketName: 'ResultsBucketName',
  alarmTopicArn: 'AlarmTopicArn',
  eventBusName: 'EventBusName',
  serviceName: 'ServiceName',
  dashboardName: 'DashboardName',
  finalizerFailureQueueUrl: 'FinalizerFailureQueueUrl',
} as const;

export type StackOutputKey = (typeof STACK_OUTPUT)[keyof typeof STACK_OUTPUT];
