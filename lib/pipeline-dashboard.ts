import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRIC_NAMESPACE, type MetricName } from '../lambdas/metrics';
import { ONE_MINUTE, pipelineMetric } from './pipeline-metrics';

export interface PipelineDashboardProps {
  readonly serviceName: string;
  readonly taskQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  readonly tables: Readonly<Record<string, ITable>>;
  readonly alarms: readonly IAlarm[];
}

const WIDTH_THIRD = 8;
const WIDTH_HALF = 12;
const WIDTH_FULL = 24;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard per pipeline: alarm states first, then the flow of
 * tasks (throughput, settles, duplicates, deferrals), the target calls
 * (latency and outcome classes), the queues, and the tables.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `conveyor-${props.serviceName}`,
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# conveyor: ${props.serviceName}\n` +
          `Custom metrics: namespace ${METRIC_NAMESPACE}, dimension service=${props.serviceName}.`,
        width: WIDTH_FULL,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: WIDTH_FULL }),
    );
    this.dashboard.addWidgets(...this.taskFlowWidgets(props.serviceName));
    this.dashboard.addWidgets(...this.targetWidgets(props.serviceName));
    this.dashboard.addWidgets(...this.queueWidgets(props));
    this.dashboard.addWidgets(...this.tableWidgets(props.tables));
  }

  private taskFlowWidgets(serviceName: string): GraphWidget[] {
    const sums = (...names: MetricName[]): IMetric[] =>
      names.map((name) => pipelineMetric(serviceName, name, { label: name }));

    return [
      graph('Throughput (per minute)', WIDTH_THIRD, sums(METRIC.deliveries, METRIC.targetCalls)),
      graph(
        'Settles and releases',
        WIDTH_THIRD,
        sums(
          METRIC.settledSuccessful,
          METRIC.settledFailed,
          METRIC.released,
          METRIC.deadLetterSettles,
          METRIC.runsCompleted,
        ),
      ),
      graph(
        'Duplicates, deferrals, poison, invariants',
        WIDTH_THIRD,
        sums(
          METRIC.suppressedDuplicates,
          METRIC.leaseDeferrals,
          METRIC.poisonMessages,
          METRIC.archivedMessages,
          METRIC.invariantViolations,
        ),
      ),
    ];
  }

  private targetWidgets(serviceName: string): GraphWidget[] {
    const latency = (statistic: string) =>
      pipelineMetric(serviceName, METRIC.fetchLatency, {
        statistic,
        label: `latency ${statistic}`,
      });

    return [
      graph('Target / gateway latency (ms)', WIDTH_HALF, [
        latency(Stats.percentile(50)),
        latency(Stats.percentile(90)),
        latency(Stats.percentile(99)),
      ]),
      graph(
        'Fetch outcome classes',
        WIDTH_HALF,
        [METRIC.fetchSucceeded, METRIC.fetchRetryableFailures, METRIC.fetchPermanentFailures].map(
          (name) => pipelineMetric(serviceName, name, { label: name }),
        ),
      ),
    ];
  }

  private queueWidgets(props: PipelineDashboardProps): GraphWidget[] {
    const maximum = { statistic: Stats.MAXIMUM, period: ONE_MINUTE };

    return [
      graph('Task queue', WIDTH_THIRD, [
        props.taskQueue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: 'visible' }),
        props.taskQueue.metricApproximateNumberOfMessagesNotVisible({
          ...maximum,
          label: 'in flight',
        }),
      ]),
      graph('Dead-letter queue depth', WIDTH_THIRD, [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          ...maximum,
          label: 'visible',
        }),
        props.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({
          ...maximum,
          label: 'in flight',
        }),
      ]),
      graph('Oldest task message (s) and worker concurrency', WIDTH_THIRD, [
        props.taskQueue.metricApproximateAgeOfOldestMessage({ ...maximum, label: 'age' }),
        props.worker.metric('ConcurrentExecutions', { ...maximum, label: 'worker concurrency' }),
        props.worker.metricErrors({
          statistic: Stats.SUM,
          period: ONE_MINUTE,
          label: 'worker errors',
        }),
      ]),
    ];
  }

  private tableWidgets(tables: Readonly<Record<string, ITable>>): GraphWidget[] {
    return Object.entries(tables).map(([name, table]) =>
      graph(
        `${name} table: conflicts and throttles`,
        WIDTH_HALF,
        ['TransactionConflict', 'ReadThrottleEvents', 'WriteThrottleEvents'].map((metricName) =>
          table.metric(metricName, { statistic: Stats.SUM, period: ONE_MINUTE, label: metricName }),
        ),
      ),
    );
  }
}

const graph = (title: string, width: number, metrics: IMetric[]): GraphWidget =>
  new GraphWidget({ title, width, height: HEIGHT, left: metrics });
