import type { Node } from 'constructs';
import { PipelineConfigurationError } from './errors';
import type { ConveyorPipelineProps } from './pipeline-props';

/** Context keys `bin/app.ts` reads, e.g. `cdk deploy -c alarmEmail=ops@example.com`. */
export const CONTEXT_KEY = {
  stackName: 'stackName',
  alarmEmail: 'alarmEmail',
  retainData: 'retainData',
  serviceName: 'serviceName',
} as const;

/** Stack name used when the context gives none. */
export const DEFAULT_STACK_NAME = 'Conveyor';

/** What the app builds, read from CDK context (cdk.json or `-c key=value`). */
export interface AppSettings {
  readonly stackName: string;
  readonly pipeline: ConveyorPipelineProps;
}

/**
 * Reads the app's settings from context. Values given on the command line
 * arrive as strings, so `retainData` accepts `true`/`false` in either form.
 */
export const appSettingsFromContext = (node: Node): AppSettings => {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);

    return value === undefined || value === '' ? undefined : String(value);
  };

  return {
    stackName: text(CONTEXT_KEY.stackName) ?? DEFAULT_STACK_NAME,
    pipeline: {
      alarmEmail: text(CONTEXT_KEY.alarmEmail),
      serviceName: text(CONTEXT_KEY.serviceName),
      retainData: booleanContext(node, text(CONTEXT_KEY.retainData)),
    },
  };
};

const booleanContext = (node: Node, value: string | undefined): boolean | undefined => {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';

  throw new PipelineConfigurationError(
    node.path === '' ? 'App' : node.path,
    `context ${CONTEXT_KEY.retainData}`,
    'must be true or false',
    JSON.stringify(value),
  );
};
