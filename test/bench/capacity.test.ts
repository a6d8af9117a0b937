import { marshall } from '@aws-sdk/util-dynamodb';
import { itemBytes, numberValueBytes, readUnits, writeUnits } from '../../bench/capacity';

describe('item size', () => {
  it('counts attribute names and UTF-8 string bytes', () => {
    const item = marshall({ runId: 'r1', name: 'é' });

    const bytes = itemBytes(item);

    expect(bytes).toBe('runId'.length + 2 + 'name'.length + 2);
  });

  it('counts one byte per two significant digits of a number, plus one', () => {
    expect(numberValueBytes('7')).toBe(2);
    expect(numberValueBytes('1764780000000')).toBe(4);
    expect(numberValueBytes('-0.00125')).toBe(3);
    expect(numberValueBytes('123456')).toBe(4);
  });

  it('adds three bytes per map or list and one per element', () => {
    const item = marshall({ m: { a: true }, l: [null, 'xy'] });

    const bytes = itemBytes(item);

    // m: name 1 + 3 + (a 1 + bool 1 + 1); l: name 1 + 3 + (null 1 + 1) + (2 + 1)
    expect(bytes).toBe(1 + 3 + 3 + (1 + 3 + 2 + 3));
  });
});

describe('capacity units', () => {
  it('bills a standard write per started kilobyte, with a minimum of one', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1_024)).toBe(1);
    expect(writeUnits(1_025)).toBe(2);
  });

  it('bills a transactional write twice', () => {
    expect(writeUnits(500, true)).toBe(2);
    expect(writeUnits(2_000, true)).toBe(4);
  });

  it('bills reads per started 4 KB, half when eventually consistent, twice when transactional', () => {
    expect(readUnits(0, { consistent: true })).toBe(1);
    expect(readUnits(4_097, { consistent: true })).toBe(2);
    expect(readUnits(4_097, { consistent: false })).toBe(1);
    expect(readUnits(100, { consistent: false })).toBe(0.5);
    expect(readUnits(100, { consistent: true, transactional: true })).toBe(2);
  });
});
