import { createGateway } from '../../../lambdas/gateway';
import {
  BlockedAddressError,
  ConnectionFailedError,
  GatewayError,
  HostNotFoundError,
  InvalidTargetUrlError,
  TooManyRedirectsError,
} from '../../../lambdas/gateway/errors';
import {
  ipv6LoopbackAvailable,
  resolveTo,
  respondWith,
  startServer,
  type TestServer,
} from './servers';

const TIMEOUT = { timeoutMs: 2_000 };
const LOOPBACK_ALLOWED = ['127.0.0.1/32'];

describe('gateway address and scheme refusals', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer(respondWith(200, { 'content-type': 'text/plain' }, 'reached'));
  });

  afterEach(() => server.close());

  it('reaches the local server when allowedAddresses lists it', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const page = await fetchTarget(server.url('/page'), TIMEOUT);

    expect(page.body.toString()).toBe('reached');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses the loopback server by default, before any request is sent', async () => {
    const fetchTarget = createGateway();

    const fetching = fetchTarget(server.url('/page'), TIMEOUT);

    await expect(fetching).rejects.toThrow(BlockedAddressError);
    await expect(fetching).rejects.toMatchObject({
      retryable: false,
      host: '127.0.0.1',
      address: '127.0.0.1',
      range: 'loopback',
    });
    expect(server.requests).toHaveLength(0);
  });

  it.each(['2130706433', '0x7f.1', '127.1', '0177.0.0.1', '0x7f000001'])(
    'refuses the numeric host form %s, which WHATWG URL turns into 127.0.0.1',
    async (numericHost) => {
      const fetchTarget = createGateway();

      const fetching = fetchTarget(`http://${numericHost}:${server.port}/`, TIMEOUT);

      await expect(fetching).rejects.toMatchObject({
        name: 'BlockedAddressError',
        address: '127.0.0.1',
      });
      expect(server.requests).toHaveLength(0);
    },
  );

  it('reaches a numeric host form once it is allowed, so the refusal above is the guard', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const page = await fetchTarget(`http://2130706433:${server.port}/`, TIMEOUT);

    expect(page.status).toBe(200);
  });

  it.each([
    ['loopback', '127.0.0.1'],
    ['private', '10.0.0.7'],
    ['private', '192.168.0.1'],
    ['private', '172.20.1.1'],
    ['linkLocal', '169.254.169.254'],
    ['carrierGradeNat', '100.64.0.1'],
    ['loopback', '::1'],
    ['loopback', '::ffff:127.0.0.1'],
    ['linkLocal', '::ffff:a9fe:a9fe'],
    ['linkLocal', 'fe80::1'],
    ['uniqueLocal', 'fd00:ec2::254'],
    ['unspecified', '0.0.0.0'],
  ])('refuses a host name that resolves to %s address %s', async (range, address) => {
    const fetchTarget = createGateway({ resolve: resolveTo(address) });

    const fetching = fetchTarget(`http://target.example:${server.port}/`, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'BlockedAddressError',
      host: 'target.example',
      address,
      range,
      retryable: false,
    });
    expect(server.requests).toHaveLength(0);
  });

  it('connects a host name to the address the resolver gave, when it is allowed', async () => {
    const fetchTarget = createGateway({
      resolve: resolveTo('127.0.0.1'),
      allowedAddresses: LOOPBACK_ALLOWED,
    });

    const page = await fetchTarget(`http://target.example:${server.port}/`, TIMEOUT);

    expect(page.body.toString()).toBe('reached');
    expect(server.requests[0]?.headers.host).toBe(`target.example:${server.port}`);
  });

  it('refuses localhost through the system resolver', async () => {
    const fetchTarget = createGateway();

    const fetching = fetchTarget(`http://localhost:${server.port}/`, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'BlockedAddressError',
      range: 'loopback',
    });
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a host name if any of its answers is not allowed', async () => {
    const fetchTarget = createGateway({
      resolve: resolveTo('127.0.0.1', '10.0.0.1'),
      allowedAddresses: LOOPBACK_ALLOWED,
    });

    const fetching = fetchTarget(`http://target.example:${server.port}/`, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'BlockedAddressError',
      address: '10.0.0.1',
    });
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['IPv4-mapped', '::ffff:127.0.0.1'],
    ['IPv4-mapped hex', '::ffff:7f00:1'],
    ['metadata', '169.254.169.254'],
    ['CGNAT', '100.64.1.1'],
    ['IPv6 loopback', '::1'],
  ])('refuses the %s literal host %s', async (_form, address) => {
    const fetchTarget = createGateway();
    const host = address.includes(':') ? `[${address}]` : address;

    const fetching = fetchTarget(`http://${host}:${server.port}/`, TIMEOUT);

    await expect(fetching).rejects.toThrow(BlockedAddressError);
  });

  it('refuses the Lambda runtime API address although allowedAddresses covers it', async () => {
    const fetchTarget = createGateway({
      allowedAddresses: LOOPBACK_ALLOWED,
      lambdaRuntimeApi: `127.0.0.1:${server.port}`,
    });

    const fetching = fetchTarget(server.url('/2018-06-01/runtime/invocation/next'), TIMEOUT);

    await expect(fetching).rejects.toMatchObject({ range: 'the Lambda runtime API' });
    expect(server.requests).toHaveLength(0);
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1:70/', 'data:,x'])(
    'refuses the scheme of %s as a permanent invalid URL',
    async (url) => {
      const fetchTarget = createGateway();

      const fetching = fetchTarget(url, TIMEOUT);

      await expect(fetching).rejects.toThrow(InvalidTargetUrlError);
      await expect(fetching).rejects.toMatchObject({ retryable: false });
    },
  );

  it('refuses an unparseable URL as a permanent invalid URL', async () => {
    const fetchTarget = createGateway();

    await expect(fetchTarget('not a url', TIMEOUT)).rejects.toThrow(InvalidTargetUrlError);
  });
});

describe('gateway redirects', () => {
  let blocked: TestServer;
  let redirecting: TestServer;

  beforeEach(async () => {
    blocked = await startServer(respondWith(200, {}, 'private data'), '127.0.0.2');
    redirecting = await startServer((request, response) => {
      const location = new URL(request.url ?? '/', 'http://x').searchParams.get('to') ?? '/';
      response.writeHead(302, { location });
      response.end();
    });
  });

  afterEach(async () => {
    await blocked.close();
    await redirecting.close();
  });

  it('refuses a redirect from an allowed server to a blocked address', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });
    const url = redirecting.url(`/?to=${encodeURIComponent(blocked.url('/secret'))}`);

    const fetching = fetchTarget(url, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'BlockedAddressError',
      address: '127.0.0.2',
      url: blocked.url('/secret'),
    });
    expect(redirecting.requests).toHaveLength(1);
    expect(blocked.requests).toHaveLength(0);
  });

  it('follows the same redirect when the second address is allowed too', async () => {
    const fetchTarget = createGateway({ allowedAddresses: ['127.0.0.0/8'] });
    const url = redirecting.url(`/?to=${encodeURIComponent(blocked.url('/secret'))}`);

    const page = await fetchTarget(url, TIMEOUT);

    expect(page).toMatchObject({ redirects: 1, finalUrl: blocked.url('/secret') });
    expect(page.body.toString()).toBe('private data');
  });

  it('refuses a redirect to a non-http scheme', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const fetching = fetchTarget(redirecting.url('/?to=file:///etc/passwd'), TIMEOUT);

    await expect(fetching).rejects.toThrow(InvalidTargetUrlError);
  });

  it('refuses a redirect to the metadata address', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });
    const to = encodeURIComponent('http://169.254.169.254/latest/meta-data/');

    const fetching = fetchTarget(redirecting.url(`/?to=${to}`), TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'BlockedAddressError',
      range: 'linkLocal',
    });
  });

  it('stops after maxRedirects hops with a permanent error', async () => {
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED, maxRedirects: 2 });
    const loop = redirecting.url(`/?to=${encodeURIComponent('/?to=/')}`);

    const fetching = fetchTarget(loop, TIMEOUT);

    await expect(fetching).rejects.toThrow(TooManyRedirectsError);
    await expect(fetching).rejects.toMatchObject({ maxRedirects: 2, retryable: false });
    expect(redirecting.requests).toHaveLength(3);
  });
});

describe('gateway connection failures', () => {
  it('maps DNS "not found" to a permanent HostNotFoundError', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), {
      code: 'ENOTFOUND',
    });
    const fetchTarget = createGateway({ resolve: () => Promise.reject(notFound) });

    const fetching = fetchTarget('http://nowhere.example/', TIMEOUT);

    await expect(fetching).rejects.toThrow(HostNotFoundError);
    await expect(fetching).rejects.toMatchObject({ host: 'nowhere.example', retryable: false });
  });

  it('maps a temporary DNS failure to a retryable ConnectionFailedError', async () => {
    const temporary = Object.assign(new Error('getaddrinfo EAI_AGAIN slow.example'), {
      code: 'EAI_AGAIN',
    });
    const fetchTarget = createGateway({ resolve: () => Promise.reject(temporary) });

    const fetching = fetchTarget('http://slow.example/', TIMEOUT);

    await expect(fetching).rejects.toThrow(ConnectionFailedError);
    await expect(fetching).rejects.toMatchObject({ code: 'EAI_AGAIN', retryable: true });
  });

  it('maps a refused connection to a retryable ConnectionFailedError', async () => {
    const server = await startServer(respondWith(200));
    const url = server.url('/');
    await server.close();
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const fetching = fetchTarget(url, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      name: 'ConnectionFailedError',
      code: 'ECONNREFUSED',
      retryable: true,
    });
  });

  it('maps a connection reset before the response to a retryable error', async () => {
    const server = await startServer((request) => request.socket.destroy());
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const fetching = fetchTarget(server.url('/'), TIMEOUT);

    await expect(fetching).rejects.toBeInstanceOf(GatewayError);
    await expect(fetching).rejects.toMatchObject({
      name: 'ConnectionFailedError',
      retryable: true,
    });
    await server.close();
  });
});

describe('gateway over IPv6 loopback', () => {
  let available = false;

  beforeAll(async () => {
    available = await ipv6LoopbackAvailable();
  });

  it('refuses [::1] by default and reaches it when allowed', async () => {
    if (!available) {
      console.warn('::1 is not available on this machine; the IPv6 loopback test is skipped');
      return;
    }
    const server = await startServer(respondWith(200, {}, 'v6'), '::1');

    const refused = createGateway()(server.url('/'), TIMEOUT);
    const allowed = createGateway({ allowedAddresses: ['::1/128'] })(server.url('/'), TIMEOUT);

    await expect(refused).rejects.toMatchObject({ name: 'BlockedAddressError', address: '::1' });
    await expect(allowed).resolves.toMatchObject({ status: 200 });
    expect(server.requests).toHaveLength(1);
    await server.close();
  });
});
