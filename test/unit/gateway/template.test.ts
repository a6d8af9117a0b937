import { createGateway } from '../../../lambdas/gateway';
import { ApiKeyReadError } from '../../../lambdas/gateway/api-key';
import {
  BlockedAddressError,
  GatewayKeyUnavailableError,
  GatewaySettingsError,
  RetryableStatusError,
} from '../../../lambdas/gateway/errors';
import { rejectionOf, respondWith, startServer, type TestServer } from './servers';

const TIMEOUT = { timeoutMs: 2_000 };
const LOOPBACK_ALLOWED = ['127.0.0.1/32'];
/** A key with characters that must be URL-encoded. */
const KEY = 'k3y/with+special&chars=';
const TARGET = 'https://target.example/path?q=1&r=two words';

describe('gateway through a scraping API URL template', () => {
  let api: TestServer;

  afterEach(() => api.close());

  const gatewayFor = (server: TestServer, apiKey: () => Promise<string>) =>
    createGateway({
      allowedAddresses: LOOPBACK_ALLOWED,
      urlTemplate: `http://127.0.0.1:${server.port}/v1/?api_key={key}&url={url}`,
      apiKey,
    });

  it('sends the URL-encoded target and key to the API and reports the target as final URL', async () => {
    api = await startServer(respondWith(200, { 'content-type': 'text/html' }, 'scraped'));
    const apiKey = jest.fn(async () => KEY);

    const page = await gatewayFor(api, apiKey)(TARGET, TIMEOUT);

    const sent = new URL(api.requests[0]?.url ?? '', 'http://api');
    expect(sent.pathname).toBe('/v1/');
    expect(sent.searchParams.get('api_key')).toBe(KEY);
    expect(sent.searchParams.get('url')).toBe(new URL(TARGET).href);
    expect(apiKey).toHaveBeenCalledTimes(1);
    expect(page).toMatchObject({ status: 200, finalUrl: new URL(TARGET).href, redirects: 0 });
    expect(page.body.toString()).toBe('scraped');
  });

  it('keeps the key out of error messages and URLs', async () => {
    api = await startServer(respondWith(500));

    const error = await rejectionOf(gatewayFor(api, async () => KEY)(TARGET, TIMEOUT));

    if (!(error instanceof RetryableStatusError)) throw error;
    const shown = `${error.message} ${error.url} ${JSON.stringify(error)}`;
    expect(shown).not.toContain(KEY);
    expect(shown).not.toContain(encodeURIComponent(KEY));
    expect(error.url).toContain('api_key=***');
  });

  it('fails retryably, naming the source, when the key cannot be read', async () => {
    api = await startServer(respondWith(200));
    const failing = async () => {
      throw new ApiKeyReadError('secret conveyor/key', 'AccessDeniedException');
    };

    const fetching = gatewayFor(api, failing)(TARGET, TIMEOUT);

    await expect(fetching).rejects.toThrow(GatewayKeyUnavailableError);
    await expect(fetching).rejects.toMatchObject({
      retryable: true,
      source: 'secret conveyor/key',
    });
    expect(api.requests).toHaveLength(0);
  });

  it('refuses an IP-literal target that is not public without asking the API', async () => {
    api = await startServer(respondWith(200));
    const apiKey = jest.fn(async () => KEY);

    const fetching = gatewayFor(api, apiKey)('http://169.254.169.254/latest/meta-data/', TIMEOUT);

    await expect(fetching).rejects.toThrow(BlockedAddressError);
    expect(api.requests).toHaveLength(0);
    expect(apiKey).not.toHaveBeenCalled();
  });

  it('refuses a target with a scheme other than http or https without asking the API', async () => {
    api = await startServer(respondWith(200));

    const fetching = gatewayFor(api, async () => KEY)('file:///etc/passwd', TIMEOUT);

    await expect(fetching).rejects.toMatchObject({ name: 'InvalidTargetUrlError' });
    expect(api.requests).toHaveLength(0);
  });

  it('works without a key when the template has no {key}', async () => {
    api = await startServer(respondWith(200, {}, 'open'));
    const fetchTarget = createGateway({
      allowedAddresses: LOOPBACK_ALLOWED,
      urlTemplate: `http://127.0.0.1:${api.port}/fetch?u={url}`,
    });

    const page = await fetchTarget(TARGET, TIMEOUT);

    expect(page.body.toString()).toBe('open');
    expect(new URL(api.requests[0]?.url ?? '', 'http://api').searchParams.get('u')).toBe(
      new URL(TARGET).href,
    );
  });
});

describe('gateway credentials in target URLs', () => {
  it('sends userinfo as basic auth and redacts the password in errors', async () => {
    const server = await startServer(respondWith(404));
    const fetchTarget = createGateway({ allowedAddresses: LOOPBACK_ALLOWED });

    const fetching = fetchTarget(`http://alice:hunter2@127.0.0.1:${server.port}/`, TIMEOUT);

    await expect(fetching).rejects.toMatchObject({
      url: `http://alice:***@127.0.0.1:${server.port}/`,
    });
    const expected = `Basic ${Buffer.from('alice:hunter2').toString('base64')}`;
    expect(server.requests[0]?.headers.authorization).toBe(expected);
    await server.close();
  });
});

describe('createGateway settings', () => {
  const key = async () => 'key';

  it.each([
    [{ urlTemplate: 'https://api.example/?key={key}' }, /urlTemplate must contain \{url\}/],
    [{ urlTemplate: 'https://api.example/?u={url}&k={key}' }, /no apiKey provider is set/],
    [
      { urlTemplate: 'https://api.example/?u={url}', apiKey: key },
      /apiKey is set but urlTemplate has no \{key\}/,
    ],
    [{ apiKey: key }, /apiKey is set but urlTemplate is not/],
    [{ urlTemplate: 'ftp://api.example/{url}' }, /must be an http: or https: URL/],
    [{ maxBytes: 0 }, /maxBytes must be an integer of at least 1; got 0/],
    [{ maxBytes: 1.5 }, /maxBytes must be an integer of at least 1; got 1.5/],
    [{ maxRedirects: -1 }, /maxRedirects must be an integer of at least 0; got -1/],
  ])('rejects %p at creation', (options, message) => {
    expect(() => createGateway(options)).toThrow(GatewaySettingsError);
    expect(() => createGateway(options)).toThrow(message);
  });
});
