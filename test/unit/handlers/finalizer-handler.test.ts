import { runIdsOf } from '../../../lambdas/handlers/finalizer';
import { streamEvent } from '../../helpers/events';

describe('finalizer handler', () => {
  it('finalizes each run of a stream batch once, in order of first appearance', () => {
    expect(runIdsOf(streamEvent('b', 'a', 'b', 'c', 'a'))).toEqual(['b', 'a', 'c']);
  });
});
