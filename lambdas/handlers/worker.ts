import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { DEFAULTS, ENV, numberFromEnv, requireEnv } from '../config';
import { powertoolsMetricSink } from '../adapters/powertools-metrics';
import { S3ResultStore } from '../adapters/s3-result-store';
import { SqsMessageQueue } from '../adapters/sqs-message-queue';
import { systemClock } from '../domain/ports';
import { processTaskMessage, type WorkerDeps } from '../domain/worker';
import { createGateway, gatewayOptionsFromEnv } from '../gateway';
import { METRIC_NAMESPACE } from '../metrics';
import { documentClientFor, tableNamesFromEnv } from './aws-clients';
import { processQueueBatch } from './sqs-batch';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });

/**
 * The worker's batch handler over injected dependencies: the Lambda below and
 * the local runtime both use it.
 */
export const createWorkerHandler = (deps: WorkerDeps) => (event: SQSEvent, context: Context) =>
  processQueueBatch(event, context, deps.logger, (record) =>
    processTaskMessage(deps, record, () => context.getRemainingTimeInMillis()),
  );

/** Builds the worker's dependencies from the environment the stack sets. */
export const workerDepsFromEnv = (env: NodeJS.ProcessEnv = process.env): WorkerDeps => ({
  documentClient: documentClientFor(),
  tables: tableNamesFromEnv(env),
  queue: new SqsMessageQueue(
    new SQSClient({}),
    requireEnv(ENV.taskQueueUrl, env),
    requireEnv(ENV.deadLetterQueueUrl, env),
  ),
  results: new S3ResultStore(new S3Client({}), requireEnv(ENV.resultsBucket, env)),
  fetchPage: createGateway(gatewayOptionsFromEnv(env)),
  clock: systemClock,
  logger,
  metrics: powertoolsMetricSink(metrics),
  settings: {
    maxAttempts: numberFromEnv(ENV.maxAttempts, DEFAULTS.maxAttempts, env),
    leaseMarginMs: numberFromEnv(ENV.leaseMarginMs, DEFAULTS.leaseMarginMs, env),
    settleReserveMs: DEFAULTS.settleReserveMs,
  },
});

let deps: WorkerDeps | undefined;

export const handler = middy((event: SQSEvent, context: Context) => {
  deps ??= workerDepsFromEnv();

  return createWorkerHandler(deps)(event, context);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
