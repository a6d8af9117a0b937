import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULTS, ENV, numberFromEnv, requireEnv } from '../config';
import { powertoolsMetricSink } from '../adapters/powertools-metrics';
import { S3ResultStore } from '../adapters/s3-result-store';
import { SqsMessageQueue } from '../adapters/sqs-message-queue';
import { processDeadLetter, type DeadLetterDeps } from '../domain/dead-letter';
import { systemClock } from '../domain/ports';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../domain/task-message';
import { METRIC_NAMESPACE } from '../metrics';
import { documentClientFor, tableNamesFromEnv } from './aws-clients';
import { processQueueBatch, receiveCountOf } from './sqs-batch';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });

const deadLetterMessage = (record: SQSRecord) => ({
  messageId: record.messageId,
  receiptHandle: record.receiptHandle,
  body: record.body,
  receiveCount: receiveCountOf(record),
  reason: record.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE]?.stringValue,
});

/** The dead-letter queue's batch handler over injected dependencies. */
export const createDeadLetterHandler =
  (deps: DeadLetterDeps) => (event: SQSEvent, context: Context) =>
    processQueueBatch(event, context, deps.logger, (record) =>
      processDeadLetter(deps, deadLetterMessage(record), () => context.getRemainingTimeInMillis()),
    );

export const deadLetterDepsFromEnv = (env: NodeJS.ProcessEnv = process.env): DeadLetterDeps => ({
  documentClient: documentClientFor(),
  tables: tableNamesFromEnv(env),
  queue: new SqsMessageQueue(new SQSClient({}), requireEnv(ENV.deadLetterQueueUrl, env)),
  archive: new S3ResultStore(new S3Client({}), requireEnv(ENV.resultsBucket, env)),
  clock: systemClock,
  logger,
  metrics: powertoolsMetricSink(metrics),
  leaseMarginMs: numberFromEnv(ENV.leaseMarginMs, DEFAULTS.leaseMarginMs, env),
});

let deps: DeadLetterDeps | undefined;

export const handler = middy((event: SQSEvent, context: Context) => {
  deps ??= deadLetterDepsFromEnv();

  return createDeadLetterHandler(deps)(event, context);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
