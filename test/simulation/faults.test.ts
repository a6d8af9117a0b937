import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { withDelivery } from '../../local/sim/context';
import {
  dieIfPlanned,
  FaultLog,
  isCounterWrite,
  isTerminalWrite,
  never,
  planLookup,
} from '../../local/sim/faults';
import { DEATH_STEP, scenarioForSeed, type Scenario } from '../../local/sim/scenario';

const tables = { runs: 'runs', tasks: 'tasks' };

const settledWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

describe('fault injectors', () => {
  it('derives the same scenario from the same seed', () => {
    expect(scenarioForSeed(17)).toEqual(scenarioForSeed(17));
    expect(scenarioForSeed(17)).not.toEqual(scenarioForSeed(18));
  });

  it('makes a death a promise that neither resolves nor rejects', async () => {
    expect(await settledWithin(never(), 50)).toBe(false);
    expect(await settledWithin(Promise.resolve(), 50)).toBe(true);
  });

  it('kills only the planned delivery of the planned task, once', async () => {
    const scenario: Scenario = {
      ...scenarioForSeed(1),
      tasks: [
        {
          death: { step: DEATH_STEP.afterFetch, onDelivery: 2 },
          fetches: [],
          terminalWriteTimesOut: false,
          storeFails: false,
          extraEnqueueDelaysSeconds: [],
        },
      ],
    };
    const log = new FaultLog();
    const plans = planLookup(scenario, ['t1']);
    const at = (delivery: number) =>
      withDelivery({ fn: 'worker', taskId: 't1', delivery, deadline: Date.now() + 1_000 }, () =>
        dieIfPlanned(log, plans, DEATH_STEP.afterFetch, 'page'),
      );

    expect(await settledWithin(at(1), 30)).toBe(true);
    expect(await settledWithin(at(2), 30)).toBe(false);
    expect(await settledWithin(at(2), 30)).toBe(true);
    expect(log.deaths.get(DEATH_STEP.afterFetch)).toBe(1);
  });

  it('recognises conveyor settles and baseline writes as terminal and counter writes', () => {
    const settle = new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: 'tasks',
            Key: { runId: 'r', taskId: 't1' },
            UpdateExpression: 'SET #status = :terminal',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':terminal': 'successful' },
          },
        },
        {
          Update: {
            TableName: 'runs',
            Key: { runId: 'r', sk: 'SHARD#000' },
            UpdateExpression: 'ADD completed :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ],
    });
    const claim = new UpdateCommand({
      TableName: 'tasks',
      Key: { runId: 'r', taskId: 't1' },
      UpdateExpression: 'SET #status = :processing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':processing': 'processing', ':pending': 'pending' },
    });
    const naiveWrite = new PutCommand({
      TableName: 'tasks',
      Item: { runId: 'r', taskId: 't1', status: 'failed' },
    });

    expect(isTerminalWrite(settle, tables)).toBe(true);
    expect(isCounterWrite(settle, tables)).toBe(true);
    expect(isTerminalWrite(claim, tables)).toBe(false);
    expect(isCounterWrite(claim, tables)).toBe(false);
    expect(isTerminalWrite(naiveWrite, tables)).toBe(true);
  });
});
