import {
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';

/**
 * Every item under a run's partition key in `tableName`, page after page, read
 * strongly consistent unless `extra` says otherwise (for a projection, say).
 */
export async function* runPartitionItems(
  documentClient: DynamoDBDocumentClient,
  tableName: string,
  runId: string,
  extra: Partial<QueryCommandInput> = {},
): AsyncGenerator<Record<string, unknown>> {
  const pages = paginateQuery(
    { client: documentClient },
    {
      TableName: tableName,
      KeyConditionExpression: 'runId = :runId',
      ExpressionAttributeValues: { ':runId': runId },
      ConsistentRead: true,
      ...extra,
    },
  );
  for await (const page of pages) yield* page.Items ?? [];
}

/** All items of {@link runPartitionItems}, collected. */
export const collectRunPartition = async (
  ...args: Parameters<typeof runPartitionItems>
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for await (const item of runPartitionItems(...args)) items.push(item);

  return items;
};
