import { checkObservation, VIOLATION, type Observation } from '../../local/sim/checker';

const exactRun = (): Observation => ({
  submittedTaskIds: ['t1', 't2'],
  tasks: [
    { taskId: 't1', status: 'successful', counterShard: 0, resultKey: 'results/r/t1' },
    { taskId: 't2', status: 'failed', counterShard: 1 },
  ],
  shards: [
    { shard: 0, completed: 1, successful: 1, failed: 0 },
    { shard: 1, completed: 1, successful: 0, failed: 1 },
  ],
  runStatus: 'completed',
  counterSamples: [{ total: 2, completed: 2, successful: 1, failed: 1 }],
  resultKeys: new Set(['results/r/t1']),
  completionEvents: [
    { runId: 'r', total: 2, completed: 2, successful: 1, failed: 1, completedAt: 'now' },
  ],
  concurrentTargetCalls: 0,
});

const kinds = (observation: Observation) =>
  checkObservation(observation).map((violation) => violation.kind);

describe('checkObservation', () => {
  it('finds nothing wrong with a run counted exactly once', () => {
    expect(checkObservation(exactRun())).toEqual([]);
  });

  it('reports a shard counted above its terminal tasks as settled twice', () => {
    const observation = {
      ...exactRun(),
      shards: [
        { shard: 0, completed: 2, successful: 2, failed: 0 },
        { shard: 1, completed: 1, successful: 0, failed: 1 },
      ],
    };

    expect(kinds(observation)).toContain(VIOLATION.settledTwice);
  });

  it('reports a terminal task missing from the counters as lost', () => {
    const observation = {
      ...exactRun(),
      shards: [{ shard: 0, completed: 1, successful: 1, failed: 0 }],
    };

    expect(kinds(observation)).toContain(VIOLATION.lost);
  });

  it('reports a task that never became terminal as lost, and the run as not completed', () => {
    const observation: Observation = {
      ...exactRun(),
      tasks: [exactRun().tasks[0]!, { taskId: 't2', status: 'processing', counterShard: 1 }],
      runStatus: 'running',
    };

    expect(kinds(observation)).toEqual(
      expect.arrayContaining([VIOLATION.lost, VIOLATION.notCompleted]),
    );
  });

  it('reports rows and results of tasks never submitted as unexpected', () => {
    const observation: Observation = {
      ...exactRun(),
      resultKeys: new Set(['results/r/t1', 'results/r/t9']),
    };

    expect(kinds(observation)).toEqual([VIOLATION.unexpected]);
  });

  it('does not count archived dead-letter messages as unexpected results', () => {
    const observation: Observation = {
      ...exactRun(),
      resultKeys: new Set(['results/r/t1', 'dead-letters/m1.json']),
    };

    expect(checkObservation(observation)).toEqual([]);
  });

  it('reports a counter sample above total as out of bounds', () => {
    const observation: Observation = {
      ...exactRun(),
      counterSamples: [{ total: 2, completed: 3, successful: 2, failed: 1 }],
    };

    expect(kinds(observation)).toContain(VIOLATION.counterBounds);
  });

  it('reports overlapping target calls for one task', () => {
    expect(kinds({ ...exactRun(), concurrentTargetCalls: 1 })).toEqual([
      VIOLATION.concurrentTargetCalls,
    ]);
  });

  it('reports a missing result object of a successful task', () => {
    expect(kinds({ ...exactRun(), resultKeys: new Set() })).toEqual([VIOLATION.missingResult]);
  });
});
