/**
 * Checksums and attribute shapes SQS puts on a message, so records built by
 * the local queue carry the same fields Lambda's SQS records do.
 */
import { createHash } from 'node:crypto';
import type { SQSMessageAttribute, SQSMessageAttributes } from 'aws-lambda';

const TRANSPORT_STRING = 1;
const TRANSPORT_BINARY = 2;

const lengthPrefixed = (bytes: Buffer): Buffer => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);

  return Buffer.concat([length, bytes]);
};

const isBinary = (attribute: SQSMessageAttribute) => attribute.dataType.startsWith('Binary');

const valueBytes = (attribute: SQSMessageAttribute): Buffer =>
  isBinary(attribute)
    ? Buffer.from(attribute.binaryValue ?? '', 'base64')
    : Buffer.from(attribute.stringValue ?? '', 'utf8');

/** The hex MD5 of a message body, as SQS returns it in `MD5OfBody`. */
export const md5OfBody = (body: string): string =>
  createHash('md5').update(body, 'utf8').digest('hex');

/**
 * The hex MD5 of a message's attributes, computed the way SQS documents it:
 * names sorted, each of name, data type and value length-prefixed, with a
 * transport byte before the value. Undefined when there are no attributes.
 */
export const md5OfMessageAttributes = (attributes: SQSMessageAttributes): string | undefined => {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;

  const hash = createHash('md5');
  for (const name of names) {
    const attribute = attributes[name] as SQSMessageAttribute;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(attribute.dataType, 'utf8')));
    hash.update(Buffer.from([isBinary(attribute) ? TRANSPORT_BINARY : TRANSPORT_STRING]));
    hash.update(lengthPrefixed(valueBytes(attribute)));
  }

  return hash.digest('hex');
};

/** Lambda's record shape of a string attribute (it always lists the unused list fields). */
export const stringAttribute = (value: string): SQSMessageAttribute => ({
  stringValue: value,
  stringListValues: [],
  binaryListValues: [],
  dataType: 'String',
});

/** Copies attributes into Lambda's record shape, with the list fields Lambda adds. */
export const normaliseMessageAttributes = (
  attributes: SQSMessageAttributes | undefined,
): SQSMessageAttributes =>
  Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, attribute]) => [
      name,
      { stringListValues: [], binaryListValues: [], ...attribute },
    ]),
  );
