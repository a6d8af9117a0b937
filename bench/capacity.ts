/**
 * DynamoDB's documented billing arithmetic, applied to requests the benchmark
 * recorded. DynamoDB Local reports no consumed capacity, so the benchmark
 * derives write and read units from item sizes by these rules.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** One write unit covers this much of an item. */
export const WRITE_UNIT_BYTES = 1_024;
/** One strongly consistent read unit covers this much. */
export const READ_UNIT_BYTES = 4_096;
/** Transactional reads and writes cost twice the standard units. */
export const TRANSACTION_FACTOR = 2;
/** Eventually consistent reads cost half a strongly consistent one. */
export const EVENTUALLY_CONSISTENT_FACTOR = 0.5;
/** Overhead of a List or Map attribute, and of each of its elements. */
const CONTAINER_OVERHEAD_BYTES = 3;
const ELEMENT_OVERHEAD_BYTES = 1;

/** The billing rules as printed with the results. */
export const BILLING_RULES = [
  'Item size = sum over attributes of UTF-8 name bytes + value bytes (string: UTF-8 bytes; ' +
    'number: 1 byte per 2 significant digits + 1; binary: raw bytes; bool/null: 1; ' +
    'list/map: 3 + elements, 1 extra byte per element).',
  'Standard write (PutItem, UpdateItem, DeleteItem, each BatchWriteItem entry): ' +
    '1 WCU per started 1 KB of the larger of the item before and after the write.',
  'A conditional write whose condition fails still consumes WCU (size of the existing item, at least 1).',
  'TransactWriteItems: 2 WCU per started 1 KB for every item in it; a cancelled transaction ' +
    'is counted like a committed one (assumption: its prepare phase touched every item).',
  'GetItem: 1 RCU per started 4 KB if strongly consistent, half if eventually consistent; ' +
    'a missing item still costs the minimum (1 or 0.5).',
  'Query/Scan: the returned items’ sizes are summed, then 1 RCU per started 4 KB ' +
    '(half if eventually consistent), at least one unit.',
  'ReturnValues on writes cost no read units. SDK retries are billed as separate requests.',
] as const;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Bytes DynamoDB counts for a number: one per two significant digits, plus one. */
export const numberValueBytes = (value: string): number => {
  const digits = value
    .replace(/^[+-]/, '')
    .replace(/[eE][+-]?\d+$/, '')
    .replace('.', '');
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');

  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
};

/** Bytes of one marshalled attribute value, without its name. */
export const attributeValueBytes = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberValueBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, entry) => sum + utf8Bytes(entry), 0);
  if (value.NS !== undefined) {
    return value.NS.reduce((sum, entry) => sum + numberValueBytes(entry), 0);
  }
  if (value.BS !== undefined) return value.BS.reduce((sum, entry) => sum + entry.byteLength, 0);
  if (value.L !== undefined) {
    const elements = value.L.map((entry) => attributeValueBytes(entry) + ELEMENT_OVERHEAD_BYTES);

    return CONTAINER_OVERHEAD_BYTES + elements.reduce((sum, size) => sum + size, 0);
  }
  if (value.M !== undefined) {
    const entries = Object.entries(value.M).map(
      ([name, entry]) => utf8Bytes(name) + attributeValueBytes(entry) + ELEMENT_OVERHEAD_BYTES,
    );

    return CONTAINER_OVERHEAD_BYTES + entries.reduce((sum, size) => sum + size, 0);
  }

  return 0;
};

/** Size of a marshalled item by DynamoDB's item size rules. */
export const itemBytes = (item: Readonly<Record<string, AttributeValue>>): number =>
  Object.entries(item).reduce(
    (sum, [name, value]) => sum + utf8Bytes(name) + attributeValueBytes(value),
    0,
  );

/** Write units of one standard write touching an item of `bytes` (at least 1). */
export const writeUnits = (bytes: number, transactional = false): number =>
  Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES)) * (transactional ? TRANSACTION_FACTOR : 1);

export interface ReadCost {
  /** Strongly consistent (`ConsistentRead: true`) or not. */
  readonly consistent: boolean;
  readonly transactional?: boolean;
}

/** Read units of one read returning `bytes` in total (a Query's items summed first). */
export const readUnits = (bytes: number, cost: ReadCost): number => {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  if (cost.transactional) return units * TRANSACTION_FACTOR;

  return cost.consistent ? units : units * EVENTUALLY_CONSISTENT_FACTOR;
};
