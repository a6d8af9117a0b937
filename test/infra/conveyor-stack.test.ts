import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { appSettingsFromContext, DEFAULT_STACK_NAME } from '../../lib/app-context';
import { ConveyorStack } from '../../lib/conveyor-stack';
import { PipelineConfigurationError } from '../../lib/errors';
import { STACK_OUTPUT } from '../../lib/stack-outputs';
import { logicalIdOf, testApp } from './synth';

describe('ConveyorStack', () => {
  it('outputs every name the CLI reads', () => {
    const stack = new ConveyorStack(testApp(), 'Outputs');
    const { pipeline } = stack;

    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUT).sort());
    expect(outputs[STACK_OUTPUT.runsTableName].Value).toEqual({
      Ref: logicalIdOf(pipeline.runsTable),
    });
    expect(outputs[STACK_OUTPUT.tasksTableName].Value).toEqual({
      Ref: logicalIdOf(pipeline.tasksTable),
    });
    expect(outputs[STACK_OUTPUT.taskQueueUrl].Value).toEqual({
      Ref: logicalIdOf(pipeline.taskQueue),
    });
    expect(outputs[STACK_OUTPUT.deadLetterQueueUrl].Value).toEqual({
      Ref: logicalIdOf(pipeline.deadLetterQueue),
    });
    expect(outputs[STACK_OUTPUT.resultsBucketName].Value).toEqual({
      Ref: logicalIdOf(pipeline.resultsBucket),
    });
    expect(outputs[STACK_OUTPUT.alarmTopicArn].Value).toEqual({
      Ref: logicalIdOf(pipeline.alarmTopic),
    });
    expect(outputs[STACK_OUTPUT.eventBusName].Value).toBe('default');
    expect(outputs[STACK_OUTPUT.serviceName].Value).toBe('Outputs');
  });

  it('passes its pipeline props through', () => {
    const stack = new ConveyorStack(testApp(), 'Props', { pipeline: { serviceName: 'scraper' } });

    expect(stack.pipeline.settings.serviceName).toBe('scraper');
  });
});

describe('appSettingsFromContext', () => {
  const contextOf = (context: Record<string, unknown>) => testApp(context).node;

  it('defaults to the Conveyor stack with every pipeline default', () => {
    expect(appSettingsFromContext(testApp().node)).toEqual({
      stackName: DEFAULT_STACK_NAME,
      pipeline: { alarmEmail: undefined, serviceName: undefined, retainData: undefined },
    });
  });

  it('reads the stack name, alarm e-mail, service name and retainData given with -c', () => {
    const settings = appSettingsFromContext(
      contextOf({
        stackName: 'ConveyorDev',
        alarmEmail: 'oncall@example.com',
        serviceName: 'dev',
        retainData: 'false',
      }),
    );

    expect(settings).toEqual({
      stackName: 'ConveyorDev',
      pipeline: { alarmEmail: 'oncall@example.com', serviceName: 'dev', retainData: false },
    });
  });

  it('accepts retainData as a JSON boolean from cdk.json', () => {
    expect(appSettingsFromContext(contextOf({ retainData: true })).pipeline.retainData).toBe(true);
  });

  it('refuses a retainData that is not true or false', () => {
    const act = () => appSettingsFromContext(contextOf({ retainData: 'no' }));

    expect(act).toThrow(PipelineConfigurationError);
    expect(act).toThrow(/context retainData must be true or false; received "no"/);
  });

  it('builds a stack whose pipeline uses the context settings', () => {
    const app = testApp();
    app.node.setContext('serviceName', 'from-context');
    const settings = appSettingsFromContext(app.node);

    const stack = new ConveyorStack(app, settings.stackName, { pipeline: settings.pipeline });

    expect(Stack.of(stack.pipeline).stackName).toBe(DEFAULT_STACK_NAME);
    expect(stack.pipeline.settings.serviceName).toBe('from-context');
  });
});
