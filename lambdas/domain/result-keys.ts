import type { TaskKey } from './schema';

/** Prefix of task result objects in the results bucket (or folder). */
export const RESULTS_PREFIX = 'results/';

/** Prefix of archived unreadable dead-letter messages. */
export const DEAD_LETTER_ARCHIVE_PREFIX = 'dead-letters/';

/**
 * Where a task's result is stored. It depends on the task alone, so a
 * duplicate that also stores a result overwrites the same object and never
 * leaves an orphan behind.
 */
export const resultKeyFor = (task: TaskKey): string =>
  `${RESULTS_PREFIX}${task.runId}/${task.taskId}`;

/** Where an unreadable dead-letter message is archived; one object per message. */
export const deadLetterArchiveKeyFor = (messageId: string): string =>
  `${DEAD_LETTER_ARCHIVE_PREFIX}${messageId}.json`;
