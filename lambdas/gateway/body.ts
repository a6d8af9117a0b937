/**
 * Reads a response body under a byte cap counted after decompression. Reading
 * stops, and the connection is destroyed, at the first chunk past the cap, so
 * neither a large body nor a compression bomb is ever held in full.
 */
import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ContentDecodingError, ResponseTooLargeError } from './errors';

/** Content-Encoding values the gateway decodes, with the decoder for each. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The Accept-Encoding the gateway sends, matching {@link DECODERS}. */
export const ACCEPTED_ENCODINGS = 'gzip, deflate, br';

/**
 * Resolves with the decoded body, or rejects with {@link ResponseTooLargeError}
 * past `maxBytes` and {@link ContentDecodingError} on an unknown or broken encoding.
 */
export const readCappedBody = async (
  response: IncomingMessage,
  maxBytes: number,
  url: string,
): Promise<Buffer> => {
  const encodings = contentEncodings(response.headers['content-encoding']);
  refuseAnnouncedOversize(response, encodings, maxBytes, url);

  const decodingOrder = [...encodings].reverse();
  const decoders = decodingOrder.map((encoding) => decoderFor(encoding, response, url));
  const decodingFailure = watchDecoders(response, decoders, decodingOrder);
  if (decoders.length > 0) pipeline([response, ...decoders], ignore);
  const decoded: Readable = decoders.at(-1) ?? response;

  try {
    return await collectUnderCap(decoded, maxBytes, url);
  } catch (error) {
    const failure = decodingFailure();
    if (failure === undefined) throw error;
    throw new ContentDecodingError(url, failure.encoding, { cause: failure.cause });
  } finally {
    response.destroy();
    decoders.forEach((decoder) => decoder.destroy());
  }
};

const collectUnderCap = async (body: Readable, maxBytes: number, url: string): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let receivedBytes = 0;

  for await (const chunk of body as AsyncIterable<Buffer>) {
    receivedBytes += chunk.length;
    if (receivedBytes > maxBytes) throw new ResponseTooLargeError(url, maxBytes, receivedBytes);
    chunks.push(chunk);
  }

  return Buffer.concat(chunks, receivedBytes);
};

/** An uncompressed body whose Content-Length already passes the cap is refused unread. */
const refuseAnnouncedOversize = (
  response: IncomingMessage,
  encodings: readonly string[],
  maxBytes: number,
  url: string,
): void => {
  const announcedBytes = Number(response.headers['content-length']);
  if (encodings.length > 0 || !Number.isFinite(announcedBytes) || announcedBytes <= maxBytes) {
    return;
  }

  response.destroy();
  throw new ResponseTooLargeError(url, maxBytes, announcedBytes);
};

/** The encodings in the order they were applied, without `identity`. */
const contentEncodings = (header: string | undefined): string[] =>
  (header ?? '')
    .split(',')
    .map((encoding) => encoding.trim().toLowerCase())
    .filter((encoding) => encoding !== '' && encoding !== 'identity');

const decoderFor = (encoding: string, response: IncomingMessage, url: string): Transform => {
  const create = DECODERS[encoding];
  if (create === undefined) {
    response.destroy();
    throw new ContentDecodingError(url, encoding);
  }

  return create();
};

interface DecodingFailure {
  readonly encoding: string;
  readonly cause: unknown;
}

/**
 * Remembers the first error a decoder raised itself. pipeline hands a
 * connection error on to every decoder, so errors that came from the response
 * are not decoding failures.
 */
const watchDecoders = (
  response: IncomingMessage,
  decoders: readonly Transform[],
  decodingOrder: readonly string[],
): (() => DecodingFailure | undefined) => {
  let responseError: unknown;
  let failure: DecodingFailure | undefined;
  response.once('error', (error) => (responseError = error));
  decoders.forEach((decoder, index) =>
    decoder.once('error', (cause) => {
      if (cause === responseError) return;
      failure ??= { encoding: decodingOrder[index] ?? 'unknown', cause };
    }),
  );

  return () => failure;
};

/** pipeline's callback; its error also reaches the last stream, where it is read. */
const ignore = (): void => undefined;
