import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TaskStoreError } from '../errors';
import type { Clock, TableNames } from '../ports';
import { TASK_STATUS, type TaskKey } from '../schema';
import { isConditionalCheckFailed } from './dynamo-failures';

export const RELEASE_OUTCOME = {
  released: 'released',
  lostRace: 'lost-race',
} as const;

export type ReleaseOutcome = (typeof RELEASE_OUTCOME)[keyof typeof RELEASE_OUTCOME];

export interface ReleaseDeps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly clock: Clock;
}

export interface ReleaseRequest extends TaskKey {
  readonly leaseOwner: string;
  /** Why this attempt failed; kept on the row for the user's reports. */
  readonly error: string;
}

/**
 * Hands a task back for another attempt after a retryable failure:
 * `processing → pending`, fenced on the caller's lease so a holder whose lease
 * was taken over cannot undo the new holder's work.
 */
export const releaseTask = async (
  deps: ReleaseDeps,
  request: ReleaseRequest,
): Promise<ReleaseOutcome> => {
  try {
    await deps.documentClient.send(
      new UpdateCommand({
        TableName: deps.tables.tasks,
        Key: { runId: request.runId, taskId: request.taskId },
        UpdateExpression:
          'SET #status = :pending, lastError = :error, updatedAt = :now ' +
          'REMOVE leaseOwner, leaseExpiresAt',
        ConditionExpression: '#status = :processing AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': TASK_STATUS.pending,
          ':processing': TASK_STATUS.processing,
          ':owner': request.leaseOwner,
          ':error': request.error,
          ':now': new Date(deps.clock()).toISOString(),
        },
      }),
    );

    return RELEASE_OUTCOME.released;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return RELEASE_OUTCOME.lostRace;
    throw new TaskStoreError(`Releasing task ${request.taskId} of run ${request.runId} failed`, {
      cause: error,
    });
  }
};
