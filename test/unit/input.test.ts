import { setTimeout } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidRunInputError } from '../../lambdas/domain/errors';
import {
  EmptyInputError,
  formatFromPath,
  INPUT_FORMAT,
  InvalidInputError,
  MalformedCsvError,
  MAX_LINE_CHARS,
  MissingUrlColumnError,
  openTaskInput,
  readTaskInputs,
  requireValidTaskInputs,
  sniffFormat,
  validateTaskInputs,
  type InputEntry,
  type TaskInput,
  type TaskInputSource,
} from '../../cli/input';

const streamOf = (...chunks: string[]) => Readable.from(chunks.map((chunk) => Buffer.from(chunk)));

/** Whether `stream` is destroyed (released by its reader) within `timeoutMs`. */
const destroyedWithin = async (stream: Readable, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!stream.destroyed && Date.now() < deadline) await setTimeout(5);

  return stream.destroyed;
};

const collect = async (source: TaskInputSource, format?: Parameters<typeof readTaskInputs>[1]) => {
  const tasks: TaskInput[] = [];
  for await (const task of readTaskInputs(source, format)) tasks.push(task);

  return tasks;
};

const entriesOf = async (source: TaskInputSource) => {
  const input = await openTaskInput(source);
  const entries: InputEntry[] = [];
  for await (const entry of input.entries) entries.push(entry);

  return { format: input.format, entries };
};

describe('input readers', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'conveyor-input-'));
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const fileWith = (name: string, content: string) => {
    const path = join(folder, name);
    writeFileSync(path, content);

    return path;
  };

  describe('plain text', () => {
    it('reads one URL per line, skipping blank lines and comments', async () => {
      const path = fileWith('urls.txt', '# my run\n\nhttps://a.test/1\r\n  http://b.test/2  \n');

      const tasks = await collect(path);

      expect(tasks).toEqual([
        { url: 'https://a.test/1', line: 3 },
        { url: 'http://b.test/2', line: 4 },
      ]);
    });

    it('reports a URL that does not parse or is not http(s) with its line and value', async () => {
      const { entries } = await entriesOf(streamOf('https://ok.test\nnot a url\nftp://x.test/f\n'));

      expect(entries.filter((entry) => entry.kind === 'invalid')).toEqual([
        {
          kind: 'invalid',
          invalid: { line: 2, reason: 'not a valid absolute URL', value: 'not a url' },
        },
        {
          kind: 'invalid',
          invalid: {
            line: 3,
            reason: 'the scheme "ftp:" is not http or https',
            value: 'ftp://x.test/f',
          },
        },
      ]);
    });

    it('reads a last line that has no newline, and lines split across chunks', async () => {
      const tasks = await collect(streamOf('https://a.te', 'st/1\nhttps://b.test/', '2'));

      expect(tasks.map((task) => task.url)).toEqual(['https://a.test/1', 'https://b.test/2']);
    });

    it('decodes a multi-byte character split across chunks', async () => {
      const bytes = Buffer.from('https://a.test/é\n');
      const cut = bytes.indexOf(0xc3) + 1;

      const tasks = await collect(
        Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]),
        INPUT_FORMAT.text,
      );

      expect(tasks[0]?.url).toBe('https://a.test/%C3%A9');
    });

    it('reports an overlong line without keeping it whole', async () => {
      const long = `https://a.test/${'x'.repeat(MAX_LINE_CHARS + 10)}`;

      const { entries } = await entriesOf(streamOf(`${long}\nhttps://b.test\n`));

      expect(entries[0]).toMatchObject({ kind: 'invalid', invalid: { line: 1 } });
      expect(entries[0]?.kind === 'invalid' && entries[0].invalid.value.length).toBeLessThan(300);
      expect(entries[1]).toMatchObject({ kind: 'task', task: { url: 'https://b.test/', line: 2 } });
    });
  });

  describe('CSV', () => {
    it('reads the url and id columns by header name, in any order', async () => {
      const path = fileWith(
        'run.csv',
        'id,Name,URL\nfirst,x,https://a.test/1\n,y,https://a.test/2\n',
      );

      const tasks = await collect(path);

      expect(tasks).toEqual([
        { url: 'https://a.test/1', externalId: 'first', line: 2 },
        { url: 'https://a.test/2', line: 3 },
      ]);
    });

    it('reads quoted fields holding commas', async () => {
      const tasks = await collect(streamOf('url,id\n"https://a.test/?q=1,2","a,b"\n'));

      expect(tasks).toEqual([{ url: 'https://a.test/?q=1,2', externalId: 'a,b', line: 2 }]);
    });

    it('reports rows with an empty or invalid url with their line numbers', async () => {
      const { entries } = await entriesOf(streamOf('url,id\n,one\nmailto:a@b.test,two\n'));

      expect(entries).toEqual([
        {
          kind: 'invalid',
          invalid: { line: 2, reason: 'the "url" column is empty', value: ',one' },
        },
        {
          kind: 'invalid',
          invalid: {
            line: 3,
            reason: 'the scheme "mailto:" is not http or https',
            value: 'mailto:a@b.test',
          },
        },
      ]);
    });

    it('refuses a header without a url column, naming the columns it found', async () => {
      const path = fileWith('nourl.csv', 'link,id\nhttps://a.test,1\n');

      const reading = collect(path);

      await expect(reading).rejects.toThrow(MissingUrlColumnError);
      await expect(reading).rejects.toThrow(/found columns "link", "id"/);
      await expect(reading).rejects.toBeInstanceOf(InvalidRunInputError);
    });

    it('refuses CSV the parser cannot read, naming the line', async () => {
      const reading = collect(streamOf('url\n"https://a.test\nhttps://b.test\n'), INPUT_FORMAT.csv);

      await expect(reading).rejects.toThrow(MalformedCsvError);
      await expect(reading).rejects.toThrow(/line 3/);
    });
  });

  describe('JSON lines', () => {
    it('reads url and id from each object, numbers as ids included', async () => {
      const path = fileWith(
        'run.ndjson',
        '{"url":"https://a.test/1","id":"a"}\n\n{"url":"https://a.test/2","id":7}\n',
      );

      const tasks = await collect(path);

      expect(tasks).toEqual([
        { url: 'https://a.test/1', externalId: 'a', line: 1 },
        { url: 'https://a.test/2', externalId: '7', line: 3 },
      ]);
    });

    it.each([
      ['{"url": broken', 'not valid JSON'],
      ['["https://a.test"]', 'not a JSON object'],
      ['{"link":"https://a.test"}', 'no "url" string'],
      ['{"url":"https://a.test","id":{"deep":1}}', '"id" is neither a string nor a number'],
    ])('reports %s as %s', async (line, reason) => {
      const { entries } = await entriesOf(streamOf(`${line}\n`));

      expect(entries).toEqual([{ kind: 'invalid', invalid: { line: 1, reason, value: line } }]);
    });
  });

  describe('format detection', () => {
    it.each([
      ['a.txt', INPUT_FORMAT.text],
      ['a.CSV', INPUT_FORMAT.csv],
      ['a.jsonl', INPUT_FORMAT.jsonLines],
      ['a.ndjson', INPUT_FORMAT.jsonLines],
      ['a.list', undefined],
    ])('takes %s as %s by its extension', (path, format) => {
      expect(formatFromPath(path)).toBe(format);
    });

    it.each([
      ['{"url":"https://a.test"}', INPUT_FORMAT.jsonLines],
      ['https://a.test/x,y', INPUT_FORMAT.text],
      ['url', INPUT_FORMAT.csv],
      ['"id","url"', INPUT_FORMAT.csv],
      ['name,link', INPUT_FORMAT.csv],
      ['example.test/page', INPUT_FORMAT.text],
    ])('sniffs %s as %s', (line, format) => {
      expect(sniffFormat(line)).toBe(format);
    });

    it('sniffs a stream by its first non-blank, non-comment line and replays it whole', async () => {
      const { format, entries } = await entriesOf(
        streamOf('\n# comment\n', 'id,url\n', 'a,https://a.test/1\n'),
      );

      expect(format).toBe(INPUT_FORMAT.csv);
      expect(entries).toEqual([
        { kind: 'task', task: { url: 'https://a.test/1', externalId: 'a', line: 4 } },
      ]);
    });

    it('sniffs a file whose extension says nothing', async () => {
      const path = fileWith('run.input', '{"url":"https://a.test/1"}\n');

      const input = await openTaskInput(path);

      expect(input.format).toBe(INPUT_FORMAT.jsonLines);
    });

    it('lets an explicit format override the extension', async () => {
      const path = fileWith('really-text.csv', 'https://a.test/1\n');

      const tasks = await collect(path, INPUT_FORMAT.text);

      expect(tasks).toEqual([{ url: 'https://a.test/1', line: 1 }]);
    });
  });

  describe('validateTaskInputs', () => {
    it('counts valid tasks and keeps the first invalid lines with a count of all', async () => {
      const lines = Array.from({ length: 30 }, (_, index) =>
        index % 3 === 0 ? `bad-${index}` : `https://a.test/${index}`,
      );
      const path = fileWith('mixed.txt', `${lines.join('\n')}\n`);

      const validation = await validateTaskInputs(path, { maxInvalidKept: 4 });

      expect(validation.total).toBe(20);
      expect(validation.invalidCount).toBe(10);
      expect(validation.invalid.map((line) => line.line)).toEqual([1, 4, 7, 10]);
    });
  });

  describe('streaming', () => {
    it.each([INPUT_FORMAT.text, INPUT_FORMAT.csv, INPUT_FORMAT.jsonLines])(
      'reads a %s input only as far as its consumer asks',
      async (format) => {
        let chunksProduced = 0;
        const endless = Readable.from(
          (function* () {
            if (format === INPUT_FORMAT.csv) yield Buffer.from('url\n');
            for (let chunk = 0; chunk < 1_000_000; chunk++) {
              chunksProduced++;
              const url = `https://a.test/${chunk}`;
              yield Buffer.from(
                format === INPUT_FORMAT.jsonLines ? `{"url":"${url}"}\n` : `${url}\n`,
              );
            }
          })(),
        );

        const firstTasks: TaskInput[] = [];
        for await (const task of readTaskInputs(endless, format)) {
          firstTasks.push(task);
          if (firstTasks.length === 3) break;
        }

        expect(firstTasks.map((task) => task.url)).toEqual([
          'https://a.test/0',
          'https://a.test/1',
          'https://a.test/2',
        ]);
        expect(chunksProduced).toBeLessThan(1_000);
        expect(await destroyedWithin(endless, 1_000)).toBe(true);
      },
    );
  });

  describe('requireValidTaskInputs', () => {
    it('throws an error listing line numbers, reasons and values', () => {
      const validation = {
        format: INPUT_FORMAT.text,
        total: 5,
        invalid: [
          { line: 2, reason: 'not a valid absolute URL', value: 'oops' },
          { line: 9, reason: 'the scheme "ftp:" is not http or https', value: 'ftp://x' },
        ],
        invalidCount: 3,
      };

      const refusal = () => requireValidTaskInputs(validation);

      expect(refusal).toThrow(InvalidInputError);
      expect(refusal).toThrow(/has 3 invalid lines/);
      expect(refusal).toThrow(/line 2: not a valid absolute URL: "oops"/);
      expect(refusal).toThrow(/line 9: the scheme "ftp:" is not http or https: "ftp:\/\/x"/);
      expect(refusal).toThrow(/and 1 more/);
    });

    it('throws for an input without tasks', () => {
      const validation = { format: INPUT_FORMAT.csv, total: 0, invalid: [], invalidCount: 0 };

      expect(() => requireValidTaskInputs(validation)).toThrow(EmptyInputError);
    });

    it('returns the total of a valid input', () => {
      const validation = { format: INPUT_FORMAT.text, total: 12, invalid: [], invalidCount: 0 };

      expect(requireValidTaskInputs(validation)).toBe(12);
    });
  });
});
