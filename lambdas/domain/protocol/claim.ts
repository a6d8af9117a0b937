import { randomUUID } from 'node:crypto';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TaskStoreError } from '../errors';
import type { Clock, TableNames } from '../ports';
import {
  isTerminalStatus,
  TASK_STATUS,
  type TaskItem,
  type TaskKey,
  type TerminalStatus,
} from '../schema';
import { isConditionalCheckFailed, oldItemOf } from './dynamo-failures';

export const CLAIM_OUTCOME = {
  claimed: 'claimed',
  unknownTask: 'unknown-task',
  alreadySettled: 'already-settled',
  leaseHeld: 'lease-held',
} as const;

/** What a claim found. Only `claimed` lets the caller call the target. */
export type ClaimOutcome =
  | {
      readonly kind: typeof CLAIM_OUTCOME.claimed;
      readonly task: TaskItem;
      readonly leaseOwner: string;
    }
  | { readonly kind: typeof CLAIM_OUTCOME.unknownTask }
  | { readonly kind: typeof CLAIM_OUTCOME.alreadySettled; readonly status: TerminalStatus }
  | { readonly kind: typeof CLAIM_OUTCOME.leaseHeld; readonly leaseExpiresAt: number };

export interface ClaimDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly clock: Clock;
  /** Makes lease owner tokens. @default crypto.randomUUID */
  readonly newLeaseOwner?: () => string;
}

export interface ClaimRequest extends TaskKey {
  /**
   * How long the lease lasts from now. Callers pass the invocation's remaining
   * time plus a margin, so a live holder's lease never runs out under it.
   */
  readonly leaseDurationMs: number;
}

/**
 * Takes a task for processing with one conditional write and no prior read:
 * a pending task, or a processing task whose holder's lease ran out, becomes
 * `processing` under a fresh lease owner. When the condition fails, the old
 * item DynamoDB returns with the failure says why.
 */
export const claimTask = async (deps: ClaimDeps, request: ClaimRequest): Promise<ClaimOutcome> => {
  const now = deps.clock();
  const leaseOwner = (deps.newLeaseOwner ?? randomUUID)();

  try {
    const { Attributes } = await deps.documentClient.send(
      new UpdateCommand({
        TableName: deps.tables.tasks,
        Key: { runId: request.runId, taskId: request.taskId },
        UpdateExpression:
          'SET #status = :processing, leaseOwner = :owner, leaseExpiresAt = :expires, ' +
          'updatedAt = :nowIso ADD attempts :one',
        ConditionExpression:
          '#status = :pending OR (#status = :processing AND leaseExpiresAt < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': TASK_STATUS.pending,
          ':processing': TASK_STATUS.processing,
          ':owner': leaseOwner,
          ':expires': now + request.leaseDurationMs,
          ':now': now,
          ':nowIso': new Date(now).toISOString(),
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

    return { kind: CLAIM_OUTCOME.claimed, task: Attributes as TaskItem, leaseOwner };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return explainFailedClaim(oldItemOf(error));
    throw new TaskStoreError(`Claiming task ${request.taskId} of run ${request.runId} failed`, {
      cause: error,
    });
  }
};

const explainFailedClaim = (old: Record<string, unknown> | undefined): ClaimOutcome => {
  if (old === undefined) return { kind: CLAIM_OUTCOME.unknownTask };
  if (isTerminalStatus(old.status))
    return { kind: CLAIM_OUTCOME.alreadySettled, status: old.status };
  if (old.status === TASK_STATUS.processing) {
    return { kind: CLAIM_OUTCOME.leaseHeld, leaseExpiresAt: Number(old.leaseExpiresAt) };
  }

  // A row without a status the protocol knows cannot be worked on: treat it as poison.
  return { kind: CLAIM_OUTCOME.unknownTask };
};
