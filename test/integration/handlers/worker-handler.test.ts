import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS } from '../../../local/dynamodb-local';
import { readProgress } from '../../../lambdas/domain/progress';
import { claimTask } from '../../../lambdas/domain/protocol/claim';
import { createWorkerHandler } from '../../../lambdas/handlers/worker';
import { createTestDatabase, type TestDatabase } from '../../helpers/dynamodb';
import { lambdaContext, sqsEvent, sqsRecord } from '../../helpers/events';
import { seedRun } from '../../helpers/runs';
import { testWorker } from '../../helpers/worker-deps';

/** A document client on the test database that counts the requests it sends, by operation. */
const countingDocumentClient = (database: TestDatabase) => {
  const counts = new Map<string, number>();
  const client = new DynamoDBClient({ endpoint: database.endpoint, ...LOCAL_AWS });
  client.middlewareStack.add(
    (next, context) => (args) => {
      counts.set(
        context.commandName as string,
        (counts.get(context.commandName as string) ?? 0) + 1,
      );
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );

  return { documentClient: DynamoDBDocumentClient.from(client), counts };
};

describe('worker handler', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(() => database.close());

  it('reports only deferred messages as failed and forwards poison to the dead-letter queue', async () => {
    const [done, held] = await seedRun(database, 'handler-batch', [
      'https://a.example',
      'https://b.example',
    ]);
    const worker = testWorker(database);
    await claimTask(worker.deps, {
      runId: 'handler-batch',
      taskId: held!,
      leaseDurationMs: 60_000,
    });
    const heldRecord = sqsRecord(JSON.stringify({ runId: 'handler-batch', taskId: held }));

    const response = await createWorkerHandler(worker.deps)(
      sqsEvent(
        sqsRecord(JSON.stringify({ runId: 'handler-batch', taskId: done })),
        heldRecord,
        sqsRecord('{"runId":"handler-batch"}', { messageId: 'poison' }),
      ),
      lambdaContext(),
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: heldRecord.messageId }]);
    expect(worker.queue.deadLettered).toEqual([
      { body: '{"runId":"handler-batch"}', reason: expect.stringContaining('taskId is missing') },
    ]);
    expect((await readProgress(database, 'handler-batch')).counters.successful).toBe(1);
  });

  it('costs two DynamoDB requests per happy-path task: one claim and one settle', async () => {
    const [taskId] = await seedRun(database, 'handler-cost', ['https://a.example']);
    const { documentClient, counts } = countingDocumentClient(database);
    const worker = testWorker(database);

    await createWorkerHandler({ ...worker.deps, documentClient })(
      sqsEvent(sqsRecord(JSON.stringify({ runId: 'handler-cost', taskId }))),
      lambdaContext(),
    );

    console.log(
      `DynamoDB requests for one happy-path task: ${JSON.stringify(Object.fromEntries(counts))}`,
    );
    expect(Object.fromEntries(counts)).toEqual({
      UpdateItemCommand: 1,
      TransactWriteItemsCommand: 1,
    });
  });
});
