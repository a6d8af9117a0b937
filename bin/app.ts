#!/usr/bin/env node
/**
 * The CDK app of `cdk synth` / `cdk deploy`: one ConveyorStack, checked by
 * cdk-nag's AwsSolutions and Serverless packs on every synth.
 *
 * Context (cdk.json or `-c key=value`): stackName (default Conveyor),
 * alarmEmail, serviceName (default the stack name), retainData (default true).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { appSettingsFromContext } from '../lib/app-context';
import { ConveyorStack } from '../lib/conveyor-stack';

const app = new App();
const settings = appSettingsFromContext(app.node);

new ConveyorStack(app, settings.stackName, {
  description: 'conveyor: exactly-once counting for batch scraping runs',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  pipeline: settings.pipeline,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
