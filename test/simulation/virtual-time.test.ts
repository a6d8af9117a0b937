import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { testEndpoint } from '../helpers/dynamodb';
import { LOCAL_AWS } from '../../local/dynamodb-local';
import { trackRequests, withVirtualTime } from '../../local/sim/virtual-time';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Simulated ms that pass during `work` while a 1 ms ticker is pending. */
const virtualMsDuring = async (work: () => Promise<unknown>) => {
  const ticker = setInterval(() => undefined, 1);
  const start = Date.now();
  await work();
  clearInterval(ticker);

  return Date.now() - start;
};

describe('virtual time', () => {
  it('fires timers in the order of their due time without waiting for them', async () => {
    const realStart = performance.now();

    const fired = await withVirtualTime(async () => {
      const order: string[] = [];
      const start = Date.now();
      await Promise.all([
        sleep(60_000).then(() => order.push(`minute at ${Date.now() - start}`)),
        sleep(5_000).then(() => order.push(`five seconds at ${Date.now() - start}`)),
      ]);

      return order;
    });

    expect(fired).toEqual(['five seconds at 5000', 'minute at 60000']);
    expect(performance.now() - realStart).toBeLessThan(5_000);
  });

  it('stands still while a tracked DynamoDB request is in flight', async () => {
    const tracked = new DynamoDBClient({ endpoint: testEndpoint(), ...LOCAL_AWS, maxAttempts: 1 });
    const untracked = new DynamoDBClient({ endpoint: testEndpoint(), ...LOCAL_AWS });
    trackRequests(tracked);

    const [trackedMs, untrackedMs] = await withVirtualTime(async () => [
      await virtualMsDuring(() => tracked.send(new ListTablesCommand({}))),
      await virtualMsDuring(() => untracked.send(new ListTablesCommand({}))),
    ]);
    tracked.destroy();
    untracked.destroy();

    expect(trackedMs).toBe(0);
    expect(untrackedMs).toBeGreaterThan(0);
  });

  it('restores the real timers afterwards', async () => {
    const realSetTimeout = setTimeout;

    await withVirtualTime(async () => {
      expect(setTimeout).not.toBe(realSetTimeout);
    });

    expect(setTimeout).toBe(realSetTimeout);
  });
});
