import { brotliCompressSync, constants as zlibConstants, deflateSync, gzipSync } from 'node:zlib';
import { createGateway } from '../../../lambdas/gateway';
import {
  ContentDecodingError,
  FetchTimeoutError,
  ResponseTooLargeError,
} from '../../../lambdas/gateway/errors';
import { rejectionOf, respondWith, startServer, type TestServer } from './servers';

const LOOPBACK_ALLOWED = ['127.0.0.1/32'];
const KIB = 1024;
const MIB = 1024 * KIB;

/** 50 MiB of zeros, gzipped to about 50 KiB: a decompression bomb. */
const GZIP_BOMB = gzipSync(Buffer.alloc(50 * MIB));

/** zlib hands decoded data over in chunks of this size. */
const ZLIB_CHUNK_BYTES = 16 * KIB;

const gateway = (maxBytes?: number) =>
  createGateway({ allowedAddresses: LOOPBACK_ALLOWED, maxBytes });

/** Resolves once the server side of the request's connection is closed. */
const connectionClosed = (server: TestServer): Promise<void> =>
  new Promise((resolve) => {
    const request = server.requests[0];
    if (request === undefined || request.socket.destroyed) return resolve();
    request.socket.once('close', () => resolve());
  });

describe('gateway deadline', () => {
  let server: TestServer | undefined;

  afterEach(() => server?.close());

  it('stops a slow-drip body at the deadline with a retryable FetchTimeoutError', async () => {
    server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => response.write('.'), 20);
      response.once('close', () => clearInterval(drip));
    });

    const fetching = gateway()(server.url('/drip'), { timeoutMs: 300 });

    await expect(fetching).rejects.toThrow(FetchTimeoutError);
    await expect(fetching).rejects.toMatchObject({ retryable: true, timeoutMs: 300 });
    await connectionClosed(server);
  });

  it('stops a server that never sends headers', async () => {
    server = await startServer(() => undefined);

    const fetching = gateway()(server.url('/silent'), { timeoutMs: 200 });

    await expect(fetching).rejects.toThrow(FetchTimeoutError);
    await connectionClosed(server);
  });

  it('counts every redirect hop against the one deadline', async () => {
    server = await startServer((_request, response) => {
      setTimeout(() => {
        response.writeHead(302, { location: '/again' });
        response.end();
      }, 80);
    });
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED, maxRedirects: 20 });

    const fetching = fetchTarget(server.url('/'), { timeoutMs: 300 });

    await expect(fetching).rejects.toThrow(FetchTimeoutError);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(server.requests.length).toBeLessThan(6);
  });

  it('covers DNS resolution: a resolver that never answers times out', async () => {
    const fetchTarget = createGateway({ resolve: () => new Promise(() => undefined) });

    const fetching = fetchTarget('http://hangs.example/', { timeoutMs: 100 });

    await expect(fetching).rejects.toMatchObject({
      name: 'FetchTimeoutError',
      url: 'http://hangs.example/',
    });
  });

  it('fails at once with FetchTimeoutError when no time is left', async () => {
    const fetchTarget = gateway();

    await expect(fetchTarget('http://127.0.0.1/', { timeoutMs: 0 })).rejects.toThrow(
      FetchTimeoutError,
    );
  });

  it('rejects a timeoutMs that is not a finite number, naming it', async () => {
    const fetchTarget = gateway();

    await expect(fetchTarget('http://127.0.0.1/', { timeoutMs: Number.NaN })).rejects.toThrow(
      /timeoutMs must be a finite number of at most \d+; got NaN/,
    );
  });

  it('returns a page that finishes within the deadline', async () => {
    server = await startServer(respondWith(200, { 'content-type': 'text/html' }, '<p>ok</p>'));

    const page = await gateway()(server.url('/'), { timeoutMs: 2_000 });

    expect(page).toMatchObject({ status: 200, contentType: 'text/html', redirects: 0 });
    expect(page.body.toString()).toBe('<p>ok</p>');
  });
});

describe('gateway byte cap', () => {
  let server: TestServer | undefined;

  afterEach(() => server?.close());

  it('refuses a body whose Content-Length passes the cap without reading it', async () => {
    server = await startServer(respondWith(200, {}, Buffer.alloc(10 * KIB)));

    const fetching = gateway(KIB)(server.url('/'), { timeoutMs: 2_000 });

    await expect(fetching).rejects.toThrow(ResponseTooLargeError);
    await expect(fetching).rejects.toMatchObject({
      retryable: false,
      maxBytes: KIB,
      receivedBytes: 10 * KIB,
    });
  });

  it('cuts an endless chunked body at the cap and closes the connection', async () => {
    server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pour = setInterval(() => response.write(Buffer.alloc(8 * KIB)), 1);
      response.once('close', () => clearInterval(pour));
    });

    const fetching = gateway(64 * KIB)(server.url('/endless'), { timeoutMs: 5_000 });

    await expect(fetching).rejects.toThrow(ResponseTooLargeError);
    await connectionClosed(server);
  });

  it('stops a gzip bomb at the cap, long before it is decompressed', async () => {
    server = await startServer(respondWith(200, { 'content-encoding': 'gzip' }, GZIP_BOMB));

    const fetching = gateway(MIB)(server.url('/bomb'), { timeoutMs: 5_000 });

    const error = await rejectionOf(fetching);
    if (!(error instanceof ResponseTooLargeError)) throw error;
    expect(error.receivedBytes).toBeGreaterThan(MIB);
    expect(error.receivedBytes).toBeLessThanOrEqual(MIB + ZLIB_CHUNK_BYTES);
  });

  it('delivers the same compressed body whole when the cap allows it', async () => {
    const small = gzipSync(Buffer.alloc(2 * MIB, 'a'));
    server = await startServer(respondWith(200, { 'content-encoding': 'gzip' }, small));

    const page = await gateway(3 * MIB)(server.url('/'), { timeoutMs: 5_000 });

    expect(page.body.length).toBe(2 * MIB);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('decodes a %s body', async (encoding, compress) => {
    const body = Buffer.from('hello '.repeat(1000));
    server = await startServer(respondWith(200, { 'content-encoding': encoding }, compress(body)));

    const page = await gateway()(server.url('/'), { timeoutMs: 2_000 });

    expect(page.body.equals(body)).toBe(true);
  });

  it('counts the cap after decompression for brotli too', async () => {
    const fastest = { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } };
    const body = brotliCompressSync(Buffer.alloc(4 * MIB), fastest);
    server = await startServer(respondWith(200, { 'content-encoding': 'br' }, body));

    const fetching = gateway(MIB)(server.url('/'), { timeoutMs: 5_000 });

    await expect(fetching).rejects.toThrow(ResponseTooLargeError);
  });

  it('refuses a body that does not decode with a permanent ContentDecodingError', async () => {
    server = await startServer(
      respondWith(200, { 'content-encoding': 'gzip' }, 'this is not gzip at all'),
    );

    const fetching = gateway()(server.url('/'), { timeoutMs: 2_000 });

    await expect(fetching).rejects.toThrow(ContentDecodingError);
    await expect(fetching).rejects.toMatchObject({ encoding: 'gzip', retryable: false });
  });

  it('refuses an unknown Content-Encoding, naming it', async () => {
    server = await startServer(respondWith(200, { 'content-encoding': 'zstd' }, 'x'));

    const fetching = gateway()(server.url('/'), { timeoutMs: 2_000 });

    await expect(fetching).rejects.toMatchObject({
      name: 'ContentDecodingError',
      encoding: 'zstd',
    });
  });

  it('reports a connection cut mid-body as retryable, not as a decoding error', async () => {
    const compressed = gzipSync(Buffer.alloc(MIB, 'z'));
    server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.write(compressed.subarray(0, 200), () => response.socket?.destroy());
    });

    const fetching = gateway()(server.url('/'), { timeoutMs: 2_000 });

    await expect(fetching).rejects.toMatchObject({
      name: 'ConnectionFailedError',
      retryable: true,
    });
  });
});
