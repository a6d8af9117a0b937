import { MalformedMessageError } from './errors';
import type { TaskKey } from './schema';

/**
 * Message attribute that carries why a message was sent straight to the
 * dead-letter queue (a poison message); the dead-letter handler reads it.
 */
export const DEAD_LETTER_REASON_ATTRIBUTE = 'conveyorDeadLetterReason';

/** The body of a task message: the task's key and nothing else (the URL lives on the row). */
export const formatTaskMessage = (task: TaskKey): string =>
  JSON.stringify({ runId: task.runId, taskId: task.taskId });

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;

/** Reads a task message body, or throws {@link MalformedMessageError} saying what is wrong. */
export const parseTaskMessage = (body: string): TaskKey => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedMessageError('not JSON', body);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedMessageError('not a JSON object', body);
  }
  const { runId, taskId } = parsed as Record<string, unknown>;
  if (!isNonEmptyString(runId)) throw new MalformedMessageError('runId is missing or empty', body);
  if (!isNonEmptyString(taskId))
    throw new MalformedMessageError('taskId is missing or empty', body);

  return { runId, taskId };
};
