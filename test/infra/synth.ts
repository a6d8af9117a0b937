/**
 * Builders shared by the infrastructure tests: a fresh app and stack per test,
 * bundling skipped, template validation off, output under one temp folder that
 * is removed when the test file ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ConveyorPipeline } from '../../lib/conveyor-pipeline';
import type { ConveyorPipelineProps } from '../../lib/pipeline-props';

const outputRoot = mkdtempSync(join(tmpdir(), 'conveyor-cdk-'));
let appCount = 0;

afterAll(() => rmSync(outputRoot, { recursive: true, force: true }));

export interface SynthOptions {
  /** Run cdk-nag's AwsSolutions and Serverless packs when the template is synthesized. */
  readonly nag?: boolean;
}

/** Props, or a function that makes them in the test stack (for imported secrets, buses...). */
export type PropsFor = ConveyorPipelineProps | ((stack: Stack) => ConveyorPipelineProps);

/**
 * A fresh app: bundling skipped, CloudFormation's own validation off (each
 * costs seconds), its output folder (made at once, synthesized or not) under
 * this file's temp folder.
 */
export const testApp = (context: Record<string, unknown> = {}): App =>
  new App({
    outdir: join(outputRoot, `app-${++appCount}`),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  });

/** Adds cdk-nag's AwsSolutions and Serverless packs to an app. */
export const addNagPacks = (app: App): void => {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
};

/** A pipeline built in a fresh stack, not yet synthesized. */
export const buildPipeline = (props: PropsFor = {}) => {
  const app = testApp();
  const stack = new Stack(app, 'TestStack');
  const pipeline = new ConveyorPipeline(
    stack,
    'Pipeline',
    typeof props === 'function' ? props(stack) : props,
  );

  return { app, stack, pipeline };
};

/** A pipeline with these props in a fresh stack, and that stack's template. */
export const synthesizePipeline = (props: PropsFor = {}, options: SynthOptions = {}) => {
  const built = buildPipeline(props);
  if (options.nag) addNagPacks(built.app);

  return { ...built, template: Template.fromStack(built.stack) };
};

/** The logical id of a construct's CloudFormation resource (an L2's default child). */
export const logicalIdOf = (construct: IConstruct): string => {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;

  return Stack.of(construct).getLogicalId(element);
};

/** CloudFormation properties are free-form JSON; tests read into them by path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form template JSON
export type ResourceProperties = Record<string, any>;

/** The properties of one resource of the template. */
export const propertiesOf = (template: Template, construct: IConstruct): ResourceProperties => {
  const resources = template.toJSON().Resources as Record<string, { Properties: object }>;
  const resource = resources[logicalIdOf(construct)];
  if (resource === undefined) throw new Error(`No resource ${logicalIdOf(construct)} in template`);

  return resource.Properties;
};
