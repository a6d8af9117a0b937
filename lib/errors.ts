import { Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConveyorError } from '../lambdas/domain/errors';

/**
 * A pipeline prop, or a combination of props, that cannot deploy as asked.
 * Thrown at synth time against the construct that received the prop, so the
 * message says where, which prop, which rule and what value was received.
 */
export class PipelineConfigurationError extends ConveyorError {
  override readonly name = 'PipelineConfigurationError';

  constructor(
    readonly constructPath: string,
    readonly prop: string,
    readonly rule: string,
    readonly received: string,
  ) {
    super(`${constructPath}: ${prop} ${rule}; received ${received}`);
  }

  /** Builds the error for `prop` of the construct `scope`. */
  static of(scope: IConstruct, prop: string, rule: string, received: unknown) {
    return new PipelineConfigurationError(scope.node.path, prop, rule, describeValue(received));
  }
}

const describeValue = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Duration) return value.toHumanString();

  return String(value);
};
