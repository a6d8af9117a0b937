/** The CLI's exit codes; scripts can tell a broken invariant from a usage error. */
export const EXIT_CODE = {
  ok: 0,
  /** The command failed: the message on stderr says why and what to do. */
  failed: 1,
  /** Bad arguments or options. */
  usage: 2,
  /** The run finished but an invariant does not hold (or the audit found a problem). */
  invariantBroken: 3,
  /** Stopped with Ctrl-C. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODE)[keyof typeof EXIT_CODE];
