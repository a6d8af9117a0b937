import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SettleOutcomeUnknownError, TaskStoreError } from '../errors';
import type { Clock, DomainLogger, TableNames } from '../ports';
import { counterShardKey, TASK_STATUS, type TaskKey, type TerminalStatus } from '../schema';
import {
  cancellationReasonsOf,
  isOutcomeUnknown,
  isTransactionCanceled,
  isTransientCancellation,
} from './dynamo-failures';

export const SETTLE_OUTCOME = {
  settled: 'settled',
  lostRace: 'lost-race',
} as const;

export type SettleOutcome =
  | { readonly kind: typeof SETTLE_OUTCOME.settled }
  | { readonly kind: typeof SETTLE_OUTCOME.lostRace };

/** How often a settle whose outcome is unknown, or that met a conflict, is sent again. */
export const SETTLE_MAX_ATTEMPTS = 6;
const SETTLE_BASE_BACKOFF_MS = 25;

export interface SettleDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly clock: Clock;
  readonly logger: DomainLogger;
  /** Waits between attempts. @default a real timer */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** What a successful task records about its result. */
export interface TaskResult {
  readonly resultKey: string;
  readonly httpStatus: number;
  readonly resultBytes: number;
}

export interface SettleRequest extends TaskKey {
  /** The shard of the run's counters this task adds to (carried on the task row). */
  readonly counterShard: number;
  /** The claim token this caller holds; only its holder may settle. */
  readonly leaseOwner: string;
  readonly status: TerminalStatus;
  readonly result?: TaskResult;
  /** Why the task failed (failed tasks). */
  readonly error?: string;
}

/**
 * Moves a task from `processing` to a terminal status and adds it to the
 * run's counters, in one transaction: both happen or neither does. Only the
 * holder of the current lease can win; every other caller gets `lost-race`.
 *
 * The transaction carries a ClientRequestToken derived from its parameters
 * (and so from the claim), so a resend within DynamoDB's idempotency window is
 * not applied twice. Any other repeat finds the task already settled by this
 * same lease owner, which also counts as `settled`.
 */
export const settleTask = async (
  deps: SettleDeps,
  request: SettleRequest,
): Promise<SettleOutcome> => {
  const wait = deps.sleep ?? sleep;
  // Built once: a resend must carry the same parameters as the first send, or
  // DynamoDB rejects the reused ClientRequestToken.
  const transaction = settleTransaction(new Date(deps.clock()).toISOString(), deps.tables, request);

  for (let attempt = 1; ; attempt++) {
    try {
      await deps.documentClient.send(new TransactWriteCommand(transaction));

      return { kind: SETTLE_OUTCOME.settled };
    } catch (error) {
      const verdict = classifySettleFailure(error, request);
      if (verdict !== 'retry') return verdict;
      if (attempt >= SETTLE_MAX_ATTEMPTS) {
        throw new SettleOutcomeUnknownError(request.runId, request.taskId, attempt, {
          cause: error,
        });
      }
      deps.logger.warn('Settle outcome unknown; sending it again', {
        runId: request.runId,
        taskId: request.taskId,
        attempt,
        error: (error as Error).name,
      });
      await wait(backoffMs(attempt));
    }
  }
};

const settleTransaction = (
  nowIso: string,
  tables: TableNames,
  request: SettleRequest,
): TransactWriteCommandInput => {
  const result = request.result;

  const transactItems: TransactWriteCommandInput['TransactItems'] = [
    {
      Update: {
        TableName: tables.tasks,
        Key: { runId: request.runId, taskId: request.taskId },
        UpdateExpression:
          'SET #status = :terminal, settledAt = :now, updatedAt = :now' +
          (result
            ? ', resultKey = :resultKey, httpStatus = :httpStatus, resultBytes = :bytes'
            : '') +
          (request.error ? ', lastError = :error' : '') +
          ' REMOVE leaseExpiresAt',
        ConditionExpression: '#status = :processing AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':terminal': request.status,
          ':processing': TASK_STATUS.processing,
          ':owner': request.leaseOwner,
          ':now': nowIso,
          ...(result && {
            ':resultKey': result.resultKey,
            ':httpStatus': result.httpStatus,
            ':bytes': result.resultBytes,
          }),
          ...(request.error && { ':error': request.error }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    {
      Update: {
        TableName: tables.runs,
        Key: counterShardKey(request.runId, request.counterShard),
        UpdateExpression: 'ADD completed :one, #outcome :one',
        ExpressionAttributeNames: { '#outcome': request.status },
        ExpressionAttributeValues: { ':one': 1 },
      },
    },
  ];

  return { ClientRequestToken: requestTokenFor(transactItems), TransactItems: transactItems };
};

/**
 * The idempotency token of a settle: a digest of its exact parameters (which
 * include the lease owner), so a resend of the same transaction reuses it and
 * no two different transactions ever share one.
 */
const requestTokenFor = (transactItems: TransactWriteCommandInput['TransactItems']) =>
  createHash('sha256').update(JSON.stringify(transactItems)).digest('hex').slice(0, 36);

/** `retry`, a final outcome, or a thrown error for failures the protocol cannot absorb. */
const classifySettleFailure = (error: unknown, request: SettleRequest): SettleOutcome | 'retry' => {
  if (isTransactionCanceled(error)) {
    const reasons = cancellationReasonsOf(error);
    const taskReason = reasons[0];
    if (taskReason?.Code === 'ConditionalCheckFailed') {
      const old = taskReason.Item ? unmarshall(taskReason.Item) : undefined;
      const settledByMe = old?.leaseOwner === request.leaseOwner && old?.status === request.status;

      return { kind: settledByMe ? SETTLE_OUTCOME.settled : SETTLE_OUTCOME.lostRace };
    }
    if (isTransientCancellation(reasons)) return 'retry';
  }
  if (isOutcomeUnknown(error)) return 'retry';

  throw new TaskStoreError(`Settling task ${request.taskId} of run ${request.runId} failed`, {
    cause: error,
  });
};

const backoffMs = (attempt: number) =>
  Math.random() * SETTLE_BASE_BACKOFF_MS * 2 ** Math.min(attempt, 6);
