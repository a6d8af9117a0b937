import { auditRun, type RunAudit } from '../../lambdas/domain/progress';
import { readProgress } from '../../lambdas/domain/progress';
import { RunNotFoundError } from '../errors';
import { EXIT_CODE } from '../exit-codes';
import { printJson, println, type CliIo } from '../io';
import { withBackend, type TargetOptions } from './target';

/** Exit code of an audit that found a broken invariant. */
export const AUDIT_FAILED_EXIT_CODE = EXIT_CODE.invariantBroken;

/** The audit as printed lines. */
export const formatAudit = (runId: string, audit: RunAudit): string[] => {
  const { counters, rows } = audit;

  return [
    `Audit of run ${runId}`,
    `  counters   total ${counters.total}, completed ${counters.completed}, ` +
      `successful ${counters.successful}, failed ${counters.failed}`,
    `  task rows  ${rows.total} rows: ${rows.successful} successful, ${rows.failed} failed, ` +
      `${rows.pending} pending, ${rows.processing} processing`,
    audit.problems.length === 0
      ? '  result     counters equal the task rows; every invariant holds'
      : `  result     ${audit.problems.length} problem(s):`,
    ...audit.problems.map((problem) => `    - ${problem}`),
  ];
};

/**
 * `conveyor audit RUN`: recounts the task rows and compares them with the
 * counters. Exits {@link AUDIT_FAILED_EXIT_CODE} when they disagree.
 */
export const auditCommand = (runId: string, options: TargetOptions, io: CliIo): Promise<number> =>
  withBackend(options, io, async (backend) => {
    const { meta } = await readProgress(backend, runId);
    if (!meta) throw new RunNotFoundError(runId, backend.description);
    const audit = await auditRun(backend, runId);

    if (options.json) printJson(io.stdout, { runId, ok: audit.problems.length === 0, ...audit });
    else for (const line of formatAudit(runId, audit)) println(io.stdout, line);

    return audit.problems.length === 0 ? 0 : AUDIT_FAILED_EXIT_CODE;
  });
