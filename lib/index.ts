/** The infrastructure conveyor offers to CDK apps. */
export { ConveyorPipeline } from './conveyor-pipeline';
export { ConveyorStack, type ConveyorStackProps } from './conveyor-stack';
export { PipelineConfigurationError } from './errors';
export { RUN_COMPLETED_EVENT, RUN_COMPLETED_PATTERN } from './events';
export { ALARM } from './pipeline-alarms';
export type { ConveyorPipelineProps, GatewayKeySource, GatewayProps } from './pipeline-props';
export {
  defaultMaxReceiveCount,
  leaseMarginMsFor,
  minimumMaxReceiveCount,
  minimumVisibilityTimeout,
} from './pipeline-settings';
export { STACK_OUTPUT } from './stack-outputs';
