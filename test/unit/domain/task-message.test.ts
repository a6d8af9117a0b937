import { MalformedMessageError } from '../../../lambdas/domain/errors';
import { formatTaskMessage, parseTaskMessage } from '../../../lambdas/domain/task-message';

describe('task messages', () => {
  it('round-trips a task key', () => {
    expect(parseTaskMessage(formatTaskMessage({ runId: 'r1', taskId: 't000000001' }))).toEqual({
      runId: 'r1',
      taskId: 't000000001',
    });
  });

  it.each([
    ['{oops', 'not JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"taskId":"t"}', 'runId is missing or empty'],
    ['{"runId":"r","taskId":""}', 'taskId is missing or empty'],
  ])('rejects %s, naming what is wrong and the value received', (body, reason) => {
    expect(() => parseTaskMessage(body)).toThrow(MalformedMessageError);
    expect(() => parseTaskMessage(body)).toThrow(`${reason}; received ${JSON.stringify(body)}`);
  });
});
