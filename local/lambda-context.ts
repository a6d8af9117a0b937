/**
 * Lambda `Context` objects for handlers the local runtime invokes, with a
 * `getRemainingTimeInMillis()` that counts down to the invocation's timeout.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { systemClock, type Clock } from '../lambdas/domain/ports';
import { LOCAL_AWS } from './dynamodb-local';
import { UnsupportedContextMethodError } from './errors';

/** The account id the local runtime puts into every fake ARN. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Memory size reported to handlers unless told otherwise. */
export const DEFAULT_MEMORY_LIMIT_MB = 1024;

export interface LambdaContextOptions {
  readonly functionName: string;
  /** The function timeout; the remaining time counts down from it. */
  readonly timeoutMs: number;
  /** Time source the countdown reads. @default systemClock */
  readonly clock?: Clock;
  /** When the invocation started, in epoch ms. @default clock() */
  readonly startedAt?: number;
  /** @default DEFAULT_MEMORY_LIMIT_MB */
  readonly memoryLimitInMB?: number;
  /** @default a random UUID */
  readonly awsRequestId?: string;
  /** @default LOCAL_AWS.region */
  readonly region?: string;
}

const logStreamName = (startedAt: number, awsRequestId: string) =>
  `${new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${awsRequestId.replaceAll('-', '')}`;

/**
 * Builds the context of one invocation. The remaining time never goes below
 * zero, as on Lambda, where the function is stopped at zero.
 */
export const createLambdaContext = (options: LambdaContextOptions): Context => {
  const clock = options.clock ?? systemClock;
  const startedAt = options.startedAt ?? clock();
  const deadline = startedAt + options.timeoutMs;
  const awsRequestId = options.awsRequestId ?? randomUUID();
  const region = options.region ?? LOCAL_AWS.region;
  const unsupported = (method: string) => () => {
    throw new UnsupportedContextMethodError(method);
  };

  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? DEFAULT_MEMORY_LIMIT_MB),
    awsRequestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: logStreamName(startedAt, awsRequestId),
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
};
