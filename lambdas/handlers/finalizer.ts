import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, requireEnv } from '../config';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import { powertoolsMetricSink } from '../adapters/powertools-metrics';
import { finalizeRun, type FinalizerDeps } from '../domain/finalizer';
import { systemClock } from '../domain/ports';
import { METRIC_NAMESPACE } from '../metrics';
import { documentClientFor } from './aws-clients';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });

/** The distinct run ids a stream batch touches, in order of first appearance. */
export const runIdsOf = (event: DynamoDBStreamEvent): string[] => {
  const runIds = event.Records.map((record) => record.dynamodb?.Keys?.runId?.S).filter(
    (runId): runId is string => runId !== undefined,
  );

  return [...new Set(runIds)];
};

/**
 * The finalizer's stream handler over injected dependencies. Each run touched
 * by the batch is finalized once; any failure throws, so the stream retries
 * the batch (finalizing is idempotent).
 */
export const createFinalizerHandler =
  (deps: FinalizerDeps) => async (event: DynamoDBStreamEvent) => {
    for (const runId of runIdsOf(event)) {
      const outcome = await finalizeRun(deps, runId);
      deps.logger.debug('Run finalized', { runId, outcome });
    }
  };

export const finalizerDepsFromEnv = (env: NodeJS.ProcessEnv = process.env): FinalizerDeps => ({
  documentClient: documentClientFor(),
  tables: { runs: requireEnv(ENV.runsTable, env) },
  events: new EventBridgePublisher(new EventBridgeClient({}), env[ENV.eventBusName] ?? 'default'),
  clock: systemClock,
  logger,
  metrics: powertoolsMetricSink(metrics),
});

let deps: FinalizerDeps | undefined;

export const handler = middy((event: DynamoDBStreamEvent) => {
  deps ??= finalizerDepsFromEnv();

  return createFinalizerHandler(deps)(event);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
