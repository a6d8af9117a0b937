import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FetchPage } from '../../lambdas/domain/ports';
import {
  counterShardKey,
  isTerminalStatus,
  type TaskItem,
  type TaskKey,
} from '../../lambdas/domain/schema';
import type { TestDatabase } from './dynamodb';

/**
 * The unguarded protocol conveyor replaces, kept only to prove the race tests
 * can fail: read the status, do the work, write the terminal status, then a
 * bare counter ADD. Nothing holds between the read and the writes.
 */
export const naiveProcessTask = async (
  database: TestDatabase,
  key: TaskKey,
  fetchPage: FetchPage,
): Promise<void> => {
  const { Item } = await database.documentClient.send(
    new GetCommand({ TableName: database.tables.tasks, Key: key }),
  );
  const task = Item as TaskItem | undefined;
  if (!task || isTerminalStatus(task.status)) return;

  let status: 'successful' | 'failed' = 'successful';
  try {
    await fetchPage(task.url, { timeoutMs: 5_000 });
  } catch {
    status = 'failed';
  }

  await database.documentClient.send(
    new PutCommand({ TableName: database.tables.tasks, Item: { ...task, status } }),
  );
  await database.documentClient.send(
    new UpdateCommand({
      TableName: database.tables.runs,
      Key: counterShardKey(key.runId, task.counterShard),
      UpdateExpression: 'ADD completed :one, #outcome :one',
      ExpressionAttributeNames: { '#outcome': status },
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );
};
