import { createGateway } from '../../../lambdas/gateway';
import { PermanentStatusError, RetryableStatusError } from '../../../lambdas/gateway/errors';
import { retryAfterSeconds } from '../../../lambdas/gateway/retry-after';
import { respondWith, startServer, type TestServer } from './servers';

const TIMEOUT = { timeoutMs: 2_000 };

describe('gateway status mapping', () => {
  let server: TestServer | undefined;

  afterEach(() => server?.close());

  const fetchWith = async (status: number, headers: Record<string, string> = {}) => {
    server = await startServer(respondWith(status, headers, 'body'));

    return createGateway({ allowedAddresses: ['127.0.0.1/32'] })(server.url('/page'), TIMEOUT);
  };

  it('maps 429 to a retryable error carrying Retry-After in seconds', async () => {
    const fetching = fetchWith(429, { 'retry-after': '120' });

    await expect(fetching).rejects.toThrow(RetryableStatusError);
    await expect(fetching).rejects.toMatchObject({
      status: 429,
      retryable: true,
      retryAfterSeconds: 120,
    });
  });

  it.each([500, 502, 503, 504])('maps %i to a retryable error', async (status) => {
    const fetching = fetchWith(status);

    await expect(fetching).rejects.toMatchObject({
      name: 'RetryableStatusError',
      status,
      retryable: true,
      retryAfterSeconds: undefined,
    });
  });

  it.each([400, 401, 403, 404, 410, 451])('maps %i to a permanent error', async (status) => {
    const fetching = fetchWith(status);

    await expect(fetching).rejects.toThrow(PermanentStatusError);
    await expect(fetching).rejects.toMatchObject({ status, retryable: false });
  });

  it('maps a redirect status without Location to a permanent error', async () => {
    const fetching = fetchWith(302);

    await expect(fetching).rejects.toMatchObject({
      name: 'PermanentStatusError',
      status: 302,
    });
  });

  it('names the URL in the error message', async () => {
    const fetching = fetchWith(404);

    await expect(fetching).rejects.toThrow(
      /^Target http:\/\/127\.0\.0\.1:\d+\/page answered HTTP 404$/,
    );
  });

  it('returns any 2xx with its status', async () => {
    const page = await fetchWith(203, { 'content-type': 'text/plain' });

    expect(page).toMatchObject({ status: 203, contentType: 'text/plain' });
  });

  it('follows relative redirects and reports the final URL and hop count', async () => {
    server = await startServer((request, response) => {
      const next = { '/a': '/b', '/b': 'c?x=1' }[request.url ?? ''];
      response.writeHead(next ? 301 : 200, next ? { location: next } : {});
      response.end(next ? '' : 'landed');
    });

    const page = await createGateway({ allowedAddresses: ['127.0.0.1/32'] })(
      server.url('/a'),
      TIMEOUT,
    );

    expect(page).toMatchObject({ status: 200, redirects: 2, finalUrl: server.url('/c?x=1') });
    expect(page.body.toString()).toBe('landed');
  });

  it('sends the configured User-Agent and accepts compressed bodies', async () => {
    server = await startServer(respondWith(200));

    await createGateway({ allowedAddresses: ['127.0.0.1/32'], userAgent: 'tester/1' })(
      server.url('/'),
      TIMEOUT,
    );

    expect(server.requests[0]?.headers).toMatchObject({
      'user-agent': 'tester/1',
      'accept-encoding': 'gzip, deflate, br',
    });
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const clock = () => now;

  it('reads delta-seconds', () => {
    expect(retryAfterSeconds('30', clock)).toBe(30);
  });

  it('reads an HTTP date as seconds from now', () => {
    expect(retryAfterSeconds('Wed, 01 Jan 2025 00:02:00 GMT', clock)).toBe(120);
  });

  it('gives 0 for a date in the past', () => {
    expect(retryAfterSeconds('Tue, 31 Dec 2024 23:00:00 GMT', clock)).toBe(0);
  });

  it.each([undefined, '', 'soon', '-5', '1.5'])('gives undefined for %p', (header) => {
    expect(retryAfterSeconds(header, clock)).toBeUndefined();
  });
});
