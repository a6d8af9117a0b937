import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  counterShardFor,
  RUN_STATUS,
  runMetaKey,
  TASK_STATUS,
  taskIdForPosition,
  type RunStatus,
} from '../../lambdas/domain/schema';
import type { TestDatabase } from './dynamodb';

export interface SeedRunOptions {
  readonly status?: RunStatus;
  readonly shardCount?: number;
}

/** Writes a run's meta item and one pending task row per URL, as submission would. */
export const seedRun = async (
  database: TestDatabase,
  runId: string,
  urls: readonly string[],
  options: SeedRunOptions = {},
): Promise<string[]> => {
  const shardCount = options.shardCount ?? 4;
  const now = new Date().toISOString();
  await database.documentClient.send(
    new PutCommand({
      TableName: database.tables.runs,
      Item: {
        ...runMetaKey(runId),
        status: options.status ?? RUN_STATUS.running,
        total: urls.length,
        shardCount,
        createdAt: now,
        updatedAt: now,
      },
    }),
  );

  const taskIds = urls.map((_, position) => taskIdForPosition(position));
  for (let start = 0; start < urls.length; start += 25) {
    const items = taskIds.slice(start, start + 25).map((taskId, offset) => ({
      PutRequest: {
        Item: {
          runId,
          taskId,
          url: urls[start + offset],
          status: TASK_STATUS.pending,
          attempts: 0,
          counterShard: counterShardFor(taskId, shardCount),
          createdAt: now,
          updatedAt: now,
        },
      },
    }));
    await database.documentClient.send(
      new BatchWriteCommand({ RequestItems: { [database.tables.tasks]: items } }),
    );
  }

  return taskIds;
};
