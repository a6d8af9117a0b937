/**
 * Streaming readers for a run's input: plain text (one URL per line), CSV
 * with a `url` column, or JSON lines. Inputs are read chunk by chunk, so a
 * file of a million URLs needs no more memory than a few lines of it.
 *
 * Checks here are syntax only (a WHATWG URL with an http or https scheme);
 * the worker checks the addresses it actually connects to.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv, type Info as CsvInfo } from 'csv-parse';
import { InvalidRunInputError } from '../lambdas/domain/errors';
import type { SubmitTaskInput } from '../lambdas/domain/submission/types';

export const INPUT_FORMAT = {
  text: 'text',
  csv: 'csv',
  jsonLines: 'jsonl',
} as const;

export type InputFormat = (typeof INPUT_FORMAT)[keyof typeof INPUT_FORMAT];

/** Longest URL accepted, in characters (a task row must stay far below 400 KB). */
export const MAX_URL_CHARS = 8_192;

/** Longest external id accepted, in characters. */
export const MAX_EXTERNAL_ID_CHARS = 1_024;

/** Longest line (or CSV record) read, in characters; longer ones are invalid. */
export const MAX_LINE_CHARS = 64 * 1_024;

/** How much of a bad line an {@link InvalidLine} keeps, in characters. */
export const INVALID_VALUE_MAX_CHARS = 200;

/** How many invalid lines {@link validateTaskInputs} keeps by default. */
export const DEFAULT_MAX_INVALID_KEPT = 100;

/** How far into an input of unknown format the sniffer looks, in bytes. */
const SNIFF_LIMIT_BYTES = 64 * 1_024;

/** How many invalid lines an {@link InvalidInputError} message lists. */
const INVALID_LINES_IN_MESSAGE = 20;

const EXTENSION_FORMATS: Readonly<Record<string, InputFormat>> = {
  '.txt': INPUT_FORMAT.text,
  '.csv': INPUT_FORMAT.csv,
  '.jsonl': INPUT_FORMAT.jsonLines,
  '.ndjson': INPUT_FORMAT.jsonLines,
};

/**
 * One task of the input: its URL (normalized), optional `id` from the input,
 * and the 1-based line it came from (for CSV, the line its record ends on).
 * The same shape `submitRun` takes.
 */
export type TaskInput = SubmitTaskInput;

/** A line of the input that cannot become a task. */
export interface InvalidLine {
  readonly line: number;
  readonly reason: string;
  /** What was received, cut to {@link INVALID_VALUE_MAX_CHARS} characters. */
  readonly value: string;
}

/** Each meaningful line of the input is either a task or an invalid line. */
export type InputEntry =
  | { readonly kind: 'task'; readonly task: TaskInput }
  | { readonly kind: 'invalid'; readonly invalid: InvalidLine };

/** A file path, or a stream of the input's bytes (e.g. stdin). */
export type TaskInputSource = string | Readable;

/** An input whose format is known, ready to be read once. */
export interface OpenedInput {
  readonly format: InputFormat;
  readonly entries: AsyncIterable<InputEntry>;
}

export interface ValidateTaskInputsOptions {
  /** Overrides detection by extension or content. @default detected */
  readonly format?: InputFormat;
  /** How many invalid lines to keep (the rest are only counted), 0 or more. @default 100 */
  readonly maxInvalidKept?: number;
}

/** What one full pass over an input found. */
export interface TaskInputValidation {
  readonly format: InputFormat;
  /** Valid tasks: the run's `total`. */
  readonly total: number;
  /** The first invalid lines, in input order. */
  readonly invalid: readonly InvalidLine[];
  /** All invalid lines, including those not kept in `invalid`. */
  readonly invalidCount: number;
}

/** The input has lines that cannot become tasks. */
export class InvalidInputError extends InvalidRunInputError {
  override readonly name = 'InvalidInputError';

  constructor(
    readonly invalid: readonly InvalidLine[],
    readonly invalidCount: number,
  ) {
    super(describeInvalidLines(invalid, invalidCount));
  }
}

/** A CSV input whose header row has no `url` column. */
export class MissingUrlColumnError extends InvalidRunInputError {
  override readonly name = 'MissingUrlColumnError';

  constructor(readonly columns: readonly string[]) {
    super(
      `The CSV header row needs a "url" column (and may have an "id" column); ` +
        `found columns ${columns.map((column) => JSON.stringify(column)).join(', ') || '(none)'}`,
    );
  }
}

/** A CSV input that the CSV parser cannot read past (an unclosed quote, say). */
export class MalformedCsvError extends InvalidRunInputError {
  override readonly name = 'MalformedCsvError';

  constructor(
    readonly line: number | undefined,
    options: { cause: unknown },
  ) {
    super(
      `The CSV input cannot be parsed${typeof line === 'number' ? ` (line ${line})` : ''}: ${messageOf(options.cause)}`,
      options,
    );
  }
}

/** An input with no valid task at all. */
export class EmptyInputError extends InvalidRunInputError {
  override readonly name = 'EmptyInputError';

  constructor(readonly format: InputFormat) {
    super(`The input (read as ${format}) has no tasks; a run needs at least one URL`);
  }
}

/**
 * The input's format from a file name's extension (.txt, .csv, .jsonl,
 * .ndjson), or undefined when the extension says nothing.
 */
export const formatFromPath = (path: string): InputFormat | undefined =>
  EXTENSION_FORMATS[extname(path).toLowerCase()];

/**
 * The input's format from its first non-blank, non-comment line: JSON lines
 * start with `{` (or `[`), a line that starts like an absolute URL is plain text, and a
 * header with a `url` cell or any comma is CSV. Anything else reads as text.
 */
export const sniffFormat = (firstLine: string): InputFormat => {
  const line = stripBom(firstLine).trim();
  if (line.startsWith('{') || line.startsWith('[')) return INPUT_FORMAT.jsonLines;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(line)) return INPUT_FORMAT.text;
  const cells = line.split(',').map((cell) => unquote(cell.trim()).toLowerCase());
  if (cells.includes('url') || cells.length > 1) return INPUT_FORMAT.csv;

  return INPUT_FORMAT.text;
};

/**
 * Opens an input and settles its format: `format` if given, else the path's
 * extension, else a sniff of the first meaningful line. The entries can be
 * iterated once; stopping early closes the file.
 */
export const openTaskInput = async (
  source: TaskInputSource,
  format?: InputFormat,
): Promise<OpenedInput> => {
  const chunks = typeof source === 'string' ? createReadStream(source) : source;
  const known = format ?? (typeof source === 'string' ? formatFromPath(source) : undefined);
  if (known !== undefined) return { format: known, entries: readEntries(known, chunks) };

  const peeked = await peekFirstLine(chunks);
  const sniffed =
    peeked.firstLine === undefined ? INPUT_FORMAT.text : sniffFormat(peeked.firstLine);

  return { format: sniffed, entries: readEntries(sniffed, peeked.chunks) };
};

/**
 * The input's valid tasks in input order. Invalid lines are skipped: run
 * {@link validateTaskInputs} first to refuse them (positions, and so task ids,
 * count valid tasks only).
 */
export async function* readTaskInputs(
  source: TaskInputSource,
  format?: InputFormat,
): AsyncIterable<TaskInput> {
  const input = await openTaskInput(source, format);
  for await (const entry of input.entries) {
    if (entry.kind === 'task') yield entry.task;
  }
}

/**
 * Reads the whole input once and counts its valid tasks, keeping the first
 * `maxInvalidKept` invalid lines and a count of all of them. Memory stays
 * bounded however long the input is. Input-wide problems (a CSV without a
 * `url` column, unparseable CSV) are thrown.
 */
export const validateTaskInputs = async (
  source: TaskInputSource,
  options: ValidateTaskInputsOptions = {},
): Promise<TaskInputValidation> => {
  const maxInvalidKept = options.maxInvalidKept ?? DEFAULT_MAX_INVALID_KEPT;
  const input = await openTaskInput(source, options.format);
  const invalid: InvalidLine[] = [];
  let total = 0;
  let invalidCount = 0;

  for await (const entry of input.entries) {
    if (entry.kind === 'task') {
      total++;
      continue;
    }
    invalidCount++;
    if (invalid.length < maxInvalidKept) invalid.push(entry.invalid);
  }

  return { format: input.format, total, invalid, invalidCount };
};

/**
 * Throws {@link InvalidInputError} if the validation found invalid lines, or
 * {@link EmptyInputError} if it found no task; returns the total otherwise.
 */
export const requireValidTaskInputs = (validation: TaskInputValidation): number => {
  if (validation.invalidCount > 0) {
    throw new InvalidInputError(validation.invalid, validation.invalidCount);
  }
  if (validation.total === 0) throw new EmptyInputError(validation.format);

  return validation.total;
};

/**
 * Checks one task's fields: the URL must parse as a WHATWG URL with an http or
 * https scheme. Returns the task (URL in its normalized form) or why not.
 */
export const checkTaskInput = (
  line: number,
  rawUrl: string,
  rawExternalId?: string,
): InputEntry => {
  const url = rawUrl.trim();
  const externalId = rawExternalId?.trim() || undefined;
  if (url === '') return invalidEntry(line, 'the URL is empty', rawUrl);
  if (url.length > MAX_URL_CHARS) {
    return invalidEntry(line, `the URL is longer than ${MAX_URL_CHARS} characters`, url);
  }
  if (externalId !== undefined && externalId.length > MAX_EXTERNAL_ID_CHARS) {
    return invalidEntry(
      line,
      `the id is longer than ${MAX_EXTERNAL_ID_CHARS} characters`,
      externalId,
    );
  }

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalidEntry(line, 'not a valid absolute URL', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return invalidEntry(line, `the scheme "${parsed.protocol}" is not http or https`, url);
  }

  return { kind: 'task', task: { url: parsed.href, line, ...(externalId && { externalId }) } };
};

const readEntries = (
  format: InputFormat,
  chunks: AsyncIterable<Buffer | string>,
): AsyncIterable<InputEntry> => {
  switch (format) {
    case INPUT_FORMAT.text:
      return readTextEntries(chunks);
    case INPUT_FORMAT.jsonLines:
      return readJsonLineEntries(chunks);
    case INPUT_FORMAT.csv:
      return readCsvEntries(chunks);
  }
};

async function* readTextEntries(chunks: AsyncIterable<Buffer | string>) {
  for await (const raw of splitLines(chunks)) {
    const text = raw.text.trim();
    if (text === '' || text.startsWith('#')) continue;
    yield raw.overlong ? overlongEntry(raw) : checkTaskInput(raw.line, text);
  }
}

async function* readJsonLineEntries(chunks: AsyncIterable<Buffer | string>) {
  for await (const raw of splitLines(chunks)) {
    if (raw.text.trim() === '') continue;
    yield raw.overlong ? overlongEntry(raw) : parseJsonLine(raw.line, raw.text);
  }
}

const parseJsonLine = (line: number, text: string): InputEntry => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalidEntry(line, 'not valid JSON', text);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalidEntry(line, 'not a JSON object', text);
  }

  const { url, id } = parsed as Record<string, unknown>;
  if (typeof url !== 'string') return invalidEntry(line, 'no "url" string', text);
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    return invalidEntry(line, '"id" is neither a string nor a number', text);
  }

  return checkTaskInput(line, url, id === undefined || id === null ? undefined : String(id));
};

async function* readCsvEntries(chunks: AsyncIterable<Buffer | string>) {
  const parser = parseCsv({
    bom: true,
    // Lines starting with # are skipped, as in text input; a # later in a line is data.
    comment: '#',
    comment_no_infix: true,
    info: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    max_record_size: MAX_LINE_CHARS,
  });
  // Errors of the source or the parser end the iteration below; the callback
  // only has to exist.
  pipeline(Readable.from(chunks), parser, () => undefined);

  let columns: { url: number; id: number } | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<CsvRecord>) {
      if (columns === undefined) {
        columns = csvColumns(record);
        continue;
      }
      yield csvEntry(record, info.lines, columns);
    }
  } catch (error) {
    if (!isCsvParseError(error)) throw error;
    throw new MalformedCsvError(error.lines, { cause: error });
  }
}

/** csv-parse's own errors carry a `CSV_…` code (and the line); others came from the source. */
const isCsvParseError = (error: unknown): error is Error & { lines?: number } =>
  error instanceof Error && String((error as { code?: unknown }).code).startsWith('CSV_');

interface CsvRecord {
  readonly record: string[];
  readonly info: CsvInfo;
}

const csvColumns = (header: readonly string[]) => {
  const names = header.map((cell) => stripBom(cell).trim().toLowerCase());
  const url = names.indexOf('url');
  if (url === -1) throw new MissingUrlColumnError(header);

  return { url, id: names.indexOf('id') };
};

const csvEntry = (
  record: readonly string[],
  line: number,
  columns: { url: number; id: number },
): InputEntry => {
  const url = record[columns.url];
  if (url === undefined || url === '') {
    return invalidEntry(line, 'the "url" column is empty', record.join(','));
  }

  return checkTaskInput(line, url, columns.id === -1 ? undefined : record[columns.id]);
};

/** A physical line of the input; `overlong` lines were cut at {@link MAX_LINE_CHARS}. */
interface RawLine {
  readonly line: number;
  readonly text: string;
  readonly overlong: boolean;
}

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), decoding UTF-8 across
 * chunk boundaries. A line longer than {@link MAX_LINE_CHARS} is not held in
 * memory: its start is kept for the report and the rest skipped.
 */
async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncIterable<RawLine> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let overlong = false;
  let line = 0;

  const finish = (text: string): RawLine => {
    line++;
    const withoutBom = line === 1 ? stripBom(text) : text;
    const content = withoutBom.endsWith('\r') ? withoutBom.slice(0, -1) : withoutBom;
    const raw = { line, text: content, overlong: overlong || content.length > MAX_LINE_CHARS };
    overlong = false;

    return raw;
  };

  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield finish(overlong ? pending : pending + text.slice(start, end));
      pending = '';
      start = end + 1;
    }
    if (!overlong) pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      pending = pending.slice(0, INVALID_VALUE_MAX_CHARS);
      overlong = true;
    }
  }

  pending += overlong ? '' : decoder.end();
  if (pending !== '' || overlong) yield finish(pending);
}

/**
 * Reads just enough of `chunks` to find the first non-blank, non-comment
 * line, and returns it with a stream that replays everything from the start.
 */
const peekFirstLine = async (chunks: AsyncIterable<Buffer | string>) => {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let firstLine: string | undefined;
  let ended = false;

  while (firstLine === undefined && headBytes < SNIFF_LIMIT_BYTES) {
    const next = await iterator.next();
    ended = next.done === true;
    if (!ended) {
      const chunk = Buffer.from(next.value);
      head.push(chunk);
      headBytes += chunk.length;
    }
    firstLine = firstMeaningfulLine(Buffer.concat(head).toString('utf8'), ended);
    if (ended) break;
  }

  return { firstLine, chunks: replay(Buffer.concat(head), ended ? undefined : iterator) };
};

const firstMeaningfulLine = (text: string, complete: boolean): string | undefined => {
  const lines = text.split('\n');
  const finished = complete ? lines : lines.slice(0, -1);

  return finished
    .map((line) => stripBom(line).trim())
    .find((line) => line !== '' && !line.startsWith('#'));
};

async function* replay(head: Buffer, rest: AsyncIterator<Buffer | string> | undefined) {
  try {
    if (head.length > 0) yield head;
    if (rest === undefined) return;
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
      yield next.value;
    }
  } finally {
    await rest?.return?.();
  }
}

const overlongEntry = (raw: RawLine): InputEntry =>
  invalidEntry(
    raw.line,
    `the line is longer than ${MAX_LINE_CHARS} characters`,
    raw.text.slice(0, INVALID_VALUE_MAX_CHARS + 1),
  );

const invalidEntry = (line: number, reason: string, value: string): InputEntry => ({
  kind: 'invalid',
  invalid: { line, reason, value: truncate(value) },
});

const truncate = (value: string): string =>
  value.length > INVALID_VALUE_MAX_CHARS ? `${value.slice(0, INVALID_VALUE_MAX_CHARS)}…` : value;

const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

const unquote = (cell: string): string =>
  cell.length >= 2 && cell.startsWith('"') && cell.endsWith('"') ? cell.slice(1, -1) : cell;

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const describeInvalidLines = (invalid: readonly InvalidLine[], invalidCount: number): string => {
  const listed = invalid
    .slice(0, INVALID_LINES_IN_MESSAGE)
    .map((entry) => `  line ${entry.line}: ${entry.reason}: ${JSON.stringify(entry.value)}`);
  const unlisted = invalidCount - listed.length;
  const more = unlisted > 0 ? [`  … and ${unlisted} more`] : [];
  const noun = invalidCount === 1 ? 'line' : 'lines';

  return [
    `The input has ${invalidCount} invalid ${noun}; fix or remove them and submit again:`,
    ...listed,
    ...more,
  ].join('\n');
};
