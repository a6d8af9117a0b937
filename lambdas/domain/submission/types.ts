/** Shapes shared by run submission and the code that feeds it. */

/** One task of a run's input, as the input readers yield it. */
export interface SubmitTaskInput {
  readonly url: string;
  readonly externalId?: string;
  /** Line in the input, quoted in error messages. */
  readonly line: number;
}

/** How far a submission got. */
export interface SubmitProgress {
  /** Task rows known to be stored: written now, or found from an earlier submission. */
  readonly written: number;
  /** Messages sent by this submission. */
  readonly sent: number;
  readonly total: number;
}
