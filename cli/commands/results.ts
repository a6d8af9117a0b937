import { runPartitionItems } from '../../lambdas/domain/run-items';
import { TaskStoreError } from '../../lambdas/domain/errors';
import { readProgress } from '../../lambdas/domain/progress';
import { TASK_STATUS, type TaskItem } from '../../lambdas/domain/schema';
import type { Backend } from '../backend';
import { RunNotFoundError } from '../errors';
import { printJson, println, type CliIo } from '../io';
import { withBackend, type TargetOptions } from './target';

export interface ResultsOptions extends TargetOptions {
  /** Only the tasks that failed. */
  readonly failed?: boolean;
}

/** One task's outcome, as `results` reports it. */
export interface TaskResultLine {
  readonly taskId: string;
  readonly status: string;
  readonly url: string;
  readonly externalId?: string;
  readonly attempts: number;
  readonly httpStatus?: number;
  /** Where the stored page is: a file or an s3:// URL. */
  readonly location?: string;
  readonly error?: string;
}

async function* taskRows(backend: Backend, runId: string): AsyncIterable<TaskItem> {
  const rows = runPartitionItems(backend.documentClient, backend.tables.tasks, runId, {
    ConsistentRead: false,
  });
  try {
    for await (const row of rows) yield row as unknown as TaskItem;
  } catch (error) {
    throw new TaskStoreError(`Reading the tasks of run ${runId} failed`, { cause: error });
  }
}

const resultLine = (backend: Backend, task: TaskItem): TaskResultLine => ({
  taskId: task.taskId,
  status: task.status,
  url: task.url,
  externalId: task.externalId,
  attempts: task.attempts,
  httpStatus: task.httpStatus,
  location: task.resultKey === undefined ? undefined : backend.resultLocation(task.resultKey),
  error: task.lastError,
});

const formatLine = (line: TaskResultLine) =>
  [
    line.taskId,
    line.status,
    line.httpStatus ?? '-',
    line.url,
    line.status === TASK_STATUS.failed ? (line.error ?? '') : (line.location ?? ''),
  ].join('\t');

/** `conveyor results RUN [--failed]`: one line per task (tab-separated) or a JSON array. */
export const resultsCommand = (
  runId: string,
  options: ResultsOptions,
  io: CliIo,
): Promise<number> =>
  withBackend(options, io, async (backend) => {
    const { meta } = await readProgress(backend, runId);
    if (!meta) throw new RunNotFoundError(runId, backend.description);

    const lines: TaskResultLine[] = [];
    for await (const task of taskRows(backend, runId)) {
      if (options.failed && task.status !== TASK_STATUS.failed) continue;
      const line = resultLine(backend, task);
      if (options.json) lines.push(line);
      else println(io.stdout, formatLine(line));
    }
    if (options.json) printJson(io.stdout, lines);

    return 0;
  });
