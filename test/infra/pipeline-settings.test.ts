import { Duration, Stack } from 'aws-cdk-lib';
import { DEFAULTS } from '../../lambdas/config';
import { PipelineConfigurationError } from '../../lib/errors';
import {
  defaultMaxReceiveCount,
  leaseMarginMsFor,
  minimumMaxReceiveCount,
  minimumVisibilityTimeout,
  resolvePipelineSettings,
} from '../../lib/pipeline-settings';
import type { ConveyorPipelineProps } from '../../lib/pipeline-props';
import { testApp } from './synth';

const resolve = (props: ConveyorPipelineProps) =>
  resolvePipelineSettings(new Stack(testApp(), 'SettingsStack'), props);

describe('derived values', () => {
  it('keeps the lease margin at the default for short worker timeouts', () => {
    expect(leaseMarginMsFor(Duration.seconds(30))).toBe(DEFAULTS.leaseMarginMs);
  });

  it('widens the lease margin to a tenth of long worker timeouts', () => {
    expect(leaseMarginMsFor(Duration.minutes(10))).toBe(60_000);
  });

  it('derives the minimum visibility timeout as six worker timeouts', () => {
    expect(minimumVisibilityTimeout(Duration.seconds(90)).toSeconds()).toBe(540);
  });

  it('allows two receives per attempt and one to acknowledge', () => {
    expect(minimumMaxReceiveCount(3)).toBe(7);
    expect(defaultMaxReceiveCount(3)).toBe(11);
  });
});

describe('resolvePipelineSettings', () => {
  it('applies the documented defaults', () => {
    const settings = resolve({});

    expect(settings).toMatchObject({
      serviceName: 'SettingsStack',
      workerMemorySize: 512,
      workerBatchSize: 10,
      workerMaxConcurrency: 50,
      maxAttempts: DEFAULTS.maxAttempts,
      maxReceiveCount: defaultMaxReceiveCount(DEFAULTS.maxAttempts),
      fetchMaxBytes: DEFAULTS.fetchMaxBytes,
      retainData: true,
      tracing: false,
    });
    expect(settings.workerTimeout.toSeconds()).toBe(60);
    expect(settings.taskVisibilityTimeout.toSeconds()).toBe(360);
    expect(settings.taskRetentionPeriod.toDays()).toBe(7);
  });

  it('derives the visibility timeout from a given worker timeout', () => {
    const settings = resolve({ workerTimeout: Duration.minutes(2) });

    expect(settings.taskVisibilityTimeout.toSeconds()).toBe(720);
    expect(settings.leaseMarginMs).toBe(12_000);
  });

  it('accepts a visibility timeout of exactly six worker timeouts', () => {
    const settings = resolve({
      workerTimeout: Duration.seconds(30),
      taskVisibilityTimeout: Duration.seconds(180),
    });

    expect(settings.taskVisibilityTimeout.toSeconds()).toBe(180);
  });

  it('refuses a visibility timeout below six worker timeouts, naming prop, rule and value', () => {
    const act = () =>
      resolve({
        workerTimeout: Duration.seconds(60),
        taskVisibilityTimeout: Duration.seconds(359),
      });

    expect(act).toThrow(PipelineConfigurationError);
    expect(act).toThrow(
      /SettingsStack: taskVisibilityTimeout must be whole seconds from 6 minutes \(6 × workerTimeout of 1 minute\) to 12 hours; received 5 minutes 59 seconds/,
    );
  });

  it('refuses a receive limit that a live lease could exhaust', () => {
    const act = () => resolve({ maxAttempts: 4, maxReceiveCount: 8 });

    expect(act).toThrow(/maxReceiveCount must be an integer from 9 to 1000 \(2 × maxAttempts \+ 1/);
    expect(act).toThrow(/received 8/);
    expect(resolve({ maxAttempts: 4, maxReceiveCount: 9 }).maxReceiveCount).toBe(9);
  });

  it.each<[string, ConveyorPipelineProps, RegExp]>([
    [
      'a worker timeout too short to fetch',
      { workerTimeout: Duration.seconds(5) },
      /workerTimeout/,
    ],
    [
      'a worker timeout past Lambda’s limit',
      { workerTimeout: Duration.minutes(16) },
      /workerTimeout/,
    ],
    ['a fractional worker timeout', { workerTimeout: Duration.millis(30_500) }, /whole seconds/],
    ['a batch larger than ten', { workerBatchSize: 11 }, /workerBatchSize.*received 11/],
    ['a concurrency of one', { workerMaxConcurrency: 1 }, /workerMaxConcurrency.*from 2/],
    ['a fractional attempt count', { maxAttempts: 2.5 }, /maxAttempts must be an integer/],
    [
      'a retention the dead-letter queue cannot outlast',
      { taskRetentionPeriod: Duration.days(14) },
      /taskRetentionPeriod/,
    ],
    [
      'an age alarm past the retention',
      { taskRetentionPeriod: Duration.days(1), oldestMessageAgeThreshold: Duration.days(2) },
      /oldestMessageAgeThreshold.*\(taskRetentionPeriod\)/,
    ],
    [
      'bodies that do not fit in memory',
      { workerMemorySize: 128, fetchMaxBytes: 10 * 1024 * 1024 },
      /fetchMaxBytes × workerBatchSize \(10\) must fit in half of workerMemorySize \(128 MiB/,
    ],
    [
      'a service name with spaces',
      { serviceName: 'my pipeline' },
      /serviceName.*received "my pipeline"/,
    ],
    [
      'an alarm address without a domain',
      { alarmEmail: 'oncall' },
      /alarmEmail must be an e-mail address; received "oncall"/,
    ],
    [
      'results that expire within a day',
      { resultsExpiration: Duration.hours(12) },
      /resultsExpiration must be 1 day or more/,
    ],
  ])('refuses %s', (_case, props, message) => {
    expect(() => resolve(props)).toThrow(message);
  });
});
