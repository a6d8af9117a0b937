import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbStreamPoller } from '../../local/stream-poller';

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/runs/stream/1';

const streamRecord = (sequenceNumber: string, runId: string): StreamsRecord => ({
  eventID: `event-${sequenceNumber}`,
  eventName: 'INSERT',
  dynamodb: {
    Keys: { runId: { S: runId }, sk: { S: 'META' } },
    NewImage: { runId: { S: runId }, sk: { S: 'META' } },
    SequenceNumber: sequenceNumber,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});

const runIdsOf = (events: DynamoDBStreamEvent[]) =>
  events.flatMap((event) => event.Records.map((record) => record.dynamodb?.Keys?.runId?.S));

describe('DynamoDbStreamPoller shard handling', () => {
  const streams = mockClient(DynamoDBStreamsClient);

  beforeEach(() => streams.reset());

  const pollerCollecting = (events: DynamoDBStreamEvent[]) =>
    new DynamoDbStreamPoller({
      client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
      streamArn: STREAM_ARN,
      handler: async (event) => void events.push(event),
      retryDelayMs: 0,
    });

  it('reads a child shard only after its closed parent is read to the end', async () => {
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        Shards: [
          {
            ShardId: 'child',
            ParentShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '300' },
          },
          {
            ShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
          },
        ],
      },
    });
    streams
      .on(GetShardIteratorCommand, { ShardId: 'parent' })
      .resolves({ ShardIterator: 'parent-1' })
      .on(GetShardIteratorCommand, { ShardId: 'child' })
      .resolves({ ShardIterator: 'child-1' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'parent-1' })
      .resolves({ Records: [streamRecord('100', 'from-parent')], NextShardIterator: 'parent-2' })
      .on(GetRecordsCommand, { ShardIterator: 'parent-2' })
      .resolves({ Records: [streamRecord('200', 'parent-last')] })
      .on(GetRecordsCommand, { ShardIterator: 'child-1' })
      .resolves({ Records: [streamRecord('300', 'from-child')], NextShardIterator: 'child-2' })
      .on(GetRecordsCommand, { ShardIterator: 'child-2' })
      .resolves({ Records: [], NextShardIterator: 'child-2' });
    const events: DynamoDBStreamEvent[] = [];
    const poller = pollerCollecting(events);

    const afterFirstCycle = (await poller.pollOnce(), runIdsOf(events));
    for (let cycle = 0; cycle < 3; cycle++) await poller.pollOnce();

    expect(afterFirstCycle).toEqual(['from-parent']);
    expect(runIdsOf(events)).toEqual(['from-parent', 'parent-last', 'from-child']);
    expect(poller.stats().shardsFinished).toBe(1);
    expect(events[0]?.Records[0]?.eventSourceARN).toBe(STREAM_ARN);
    expect(
      streams.commandCalls(GetShardIteratorCommand, { ShardId: 'child' })[0]?.args[0].input,
    ).toMatchObject({ ShardIteratorType: 'TRIM_HORIZON' });
  });

  it('reopens an expired iterator after the last acknowledged sequence number', async () => {
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: { Shards: [{ ShardId: 'only', SequenceNumberRange: {} }] },
    });
    streams
      .on(GetShardIteratorCommand)
      .resolves({ ShardIterator: 'first' })
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'resumed' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'first' })
      .resolves({ Records: [streamRecord('100', 'run-1')], NextShardIterator: 'stale' })
      .on(GetRecordsCommand, { ShardIterator: 'stale' })
      .rejects(new ExpiredIteratorException({ message: 'expired', $metadata: {} }))
      .on(GetRecordsCommand, { ShardIterator: 'resumed' })
      .resolves({ Records: [streamRecord('101', 'run-2')], NextShardIterator: 'next' })
      .on(GetRecordsCommand, { ShardIterator: 'next' })
      .resolves({ Records: [], NextShardIterator: 'next' });
    const events: DynamoDBStreamEvent[] = [];
    const poller = pollerCollecting(events);

    for (let cycle = 0; cycle < 4; cycle++) await poller.pollOnce();

    expect(runIdsOf(events)).toEqual(['run-1', 'run-2']);
    expect(
      streams.commandCalls(GetShardIteratorCommand, {
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      })[0]?.args[0].input,
    ).toMatchObject({ ShardId: 'only', SequenceNumber: '100' });
  });
});
