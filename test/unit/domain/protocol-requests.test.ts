import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SettleOutcomeUnknownError, TaskStoreError } from '../../../lambdas/domain/errors';
import { CLAIM_OUTCOME, claimTask } from '../../../lambdas/domain/protocol/claim';
import { releaseTask } from '../../../lambdas/domain/protocol/release';
import { SETTLE_MAX_ATTEMPTS, settleTask } from '../../../lambdas/domain/protocol/settle';
import { quietLogger } from '../../helpers/fakes';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(documentClient);
const tables = { runs: 'runs', tasks: 'tasks' };
const NOW = 1_700_000_000_000;
const deps = {
  documentClient,
  tables,
  clock: () => NOW,
  logger: quietLogger,
  sleep: async () => undefined,
};
const settleRequest = {
  runId: 'r',
  taskId: 't1',
  counterShard: 2,
  leaseOwner: 'owner-1',
  status: 'successful' as const,
};

const canceled = (code: string, item?: Record<string, unknown>) =>
  new TransactionCanceledException({
    message: 'canceled',
    $metadata: {},
    CancellationReasons: [{ Code: code, Item: item && marshall(item) }, { Code: 'None' }],
  });

describe('protocol requests', () => {
  beforeEach(() => dynamo.reset());

  it('claims with one conditional UpdateItem that returns the new item and the old one on failure', async () => {
    dynamo
      .on(UpdateCommand)
      .resolves({ Attributes: { runId: 'r', taskId: 't1', url: 'https://x' } });

    await claimTask(
      { ...deps, newLeaseOwner: () => 'owner-1' },
      { runId: 'r', taskId: 't1', leaseDurationMs: 30_000 },
    );

    expect(dynamo).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'tasks',
      Key: { runId: 'r', taskId: 't1' },
      ConditionExpression:
        '#status = :pending OR (#status = :processing AND leaseExpiresAt < :now)',
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ExpressionAttributeValues: expect.objectContaining({
        ':owner': 'owner-1',
        ':expires': NOW + 30_000,
        ':now': NOW,
      }),
    });
  });

  it('reads why a claim failed from the item returned with the failed condition', async () => {
    dynamo.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'failed',
        $metadata: {},
        Item: marshall({ status: 'processing', leaseExpiresAt: NOW + 5_000 }),
      }),
    );

    const outcome = await claimTask(deps, { runId: 'r', taskId: 't1', leaseDurationMs: 1 });

    expect(outcome).toEqual({ kind: CLAIM_OUTCOME.leaseHeld, leaseExpiresAt: NOW + 5_000 });
  });

  it('wraps other claim failures in TaskStoreError with the cause', async () => {
    const cause = new Error('AccessDenied');
    dynamo.on(UpdateCommand).rejects(cause);

    const claim = claimTask(deps, { runId: 'r', taskId: 't1', leaseDurationMs: 1 });

    await expect(claim).rejects.toBeInstanceOf(TaskStoreError);
    await expect(claim).rejects.toMatchObject({ cause });
  });

  it('settles with one transaction: the fenced task write and the ADD on its counter shard', async () => {
    dynamo.on(TransactWriteCommand).resolves({});

    await settleTask(deps, settleRequest);

    const input = dynamo.commandCalls(TransactWriteCommand)[0]!.args[0].input;
    expect(input.ClientRequestToken).toMatch(/^[0-9a-f]{36}$/);
    expect(input.TransactItems?.[0]?.Update).toMatchObject({
      TableName: 'tasks',
      ConditionExpression: '#status = :processing AND leaseOwner = :owner',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(input.TransactItems?.[1]?.Update).toMatchObject({
      TableName: 'runs',
      Key: { runId: 'r', sk: 'SHARD#002' },
      UpdateExpression: 'ADD completed :one, #outcome :one',
      ExpressionAttributeNames: { '#outcome': 'successful' },
    });
  });

  it.each([
    ['another owner settled it', { status: 'successful', leaseOwner: 'owner-2' }, 'lost-race'],
    ['this owner already settled it', { status: 'successful', leaseOwner: 'owner-1' }, 'settled'],
  ])('maps a failed task condition when %s', async (_label, old, expected) => {
    dynamo.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', old));

    const outcome = await settleTask(deps, settleRequest);

    expect(outcome.kind).toBe(expected);
  });

  it('sends the same transaction again after a conflict or an unknown outcome', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(canceled('TransactionConflict'))
      .rejectsOnce(timeout)
      .resolves({});

    const outcome = await settleTask(deps, settleRequest);

    const tokens = dynamo
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.ClientRequestToken);
    expect(outcome.kind).toBe('settled');
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
  });

  it('gives up with SettleOutcomeUnknownError after the last attempt', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));

    await expect(settleTask(deps, settleRequest)).rejects.toBeInstanceOf(SettleOutcomeUnknownError);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, SETTLE_MAX_ATTEMPTS);
  });

  it('does not retry a validation error', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(Object.assign(new Error('bad'), { name: 'ValidationException' }));

    await expect(settleTask(deps, settleRequest)).rejects.toBeInstanceOf(TaskStoreError);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('releases with an UpdateItem fenced on the lease owner', async () => {
    dynamo.on(UpdateCommand).resolves({});

    await releaseTask(deps, { runId: 'r', taskId: 't1', leaseOwner: 'owner-1', error: '503' });

    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#status = :processing AND leaseOwner = :owner',
      UpdateExpression: expect.stringContaining('REMOVE leaseOwner, leaseExpiresAt'),
    });
  });
});
