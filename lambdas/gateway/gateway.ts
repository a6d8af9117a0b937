/**
 * The gateway: fetches a user-supplied URL without letting it reach anything
 * but the public internet, within one deadline and one byte cap. It is the
 * worker's only way to the network.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { DEFAULTS } from '../config';
import { createAddressPolicy, type AddressPolicy } from './addresses';
import { ApiKeyReadError, type ApiKeyProvider } from './api-key';
import { ACCEPTED_ENCODINGS, readCappedBody } from './body';
import {
  BlockedAddressError,
  FetchTimeoutError,
  GatewayError,
  GatewayKeyUnavailableError,
  GatewaySettingsError,
  PermanentStatusError,
  RetryableStatusError,
  TooManyRedirectsError,
} from './errors';
import { requestHop, systemResolver, type Resolver } from './hop';
import { toGatewayError } from './network-errors';
import { retryAfterSeconds } from './retry-after';
import {
  connectHost,
  createRedactor,
  fillUrlTemplate,
  isLiteralAddress,
  parseFetchableUrl,
  validateUrlTemplate,
  type Redactor,
} from './urls';

/** Redirects followed when `maxRedirects` is not given. */
export const DEFAULT_MAX_REDIRECTS = 5;

/** User-Agent sent when `userAgent` is not given. */
export const DEFAULT_USER_AGENT = 'conveyor/0.1 (batch fetcher)';

/** Statuses that redirect a GET when they carry a Location. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

const TOO_MANY_REQUESTS = 429;

/** setTimeout fires at once beyond this; no Lambda invocation lasts that long anyway. */
const MAX_TIMER_MS = 2_147_483_647;

/** A page the gateway fetched. */
export interface FetchedPage {
  /** Final HTTP status; always 2xx (other statuses throw). */
  readonly status: number;
  /** The body, decompressed. */
  readonly body: Buffer;
  readonly contentType?: string;
  /** The target URL after redirects (never the scraping API's URL). */
  readonly finalUrl: string;
  /** Redirects followed. */
  readonly redirects: number;
}

export interface FetchOptions {
  /**
   * Overall deadline for the whole fetch: DNS, connect, every redirect hop and
   * the body. Zero or less fails at once with a FetchTimeoutError.
   */
  readonly timeoutMs: number;
}

/** Fetches one URL; every failure is a {@link GatewayError}. */
export type FetchTarget = (url: string, options: FetchOptions) => Promise<FetchedPage>;

export interface GatewayOptions {
  /**
   * Largest body kept, counted after decompression; a larger one fails with
   * ResponseTooLargeError. A positive integer.
   * @default DEFAULTS.fetchMaxBytes (5 MiB)
   */
  readonly maxBytes?: number;
  /**
   * Redirects followed before TooManyRedirectsError. An integer, 0 or more.
   * @default 5
   */
  readonly maxRedirects?: number;
  /**
   * User-Agent header of every request.
   * @default DEFAULT_USER_AGENT
   */
  readonly userAgent?: string;
  /**
   * CIDRs or addresses allowed although not public, e.g. `['127.0.0.1/32']`
   * for tests and the local demo. Never use it to open private ranges in production.
   * @default [] (public unicast only)
   */
  readonly allowedAddresses?: readonly string[];
  /**
   * A scraping-API URL such as `https://api.example.com/v1/?api_key={key}&url={url}`.
   * `{url}` becomes the URL-encoded target and `{key}` the URL-encoded key from `apiKey`.
   * @default undefined (targets are fetched directly)
   */
  readonly urlTemplate?: string;
  /**
   * Provides the scraping API's key; see `keyFromSecret` and `keyFromParameter`.
   * Requires `urlTemplate` with `{key}`.
   * @default undefined
   */
  readonly apiKey?: ApiKeyProvider;
  /**
   * DNS seam: resolves a host name to all its addresses. Every answer is checked.
   * @default the system resolver (getaddrinfo, all answers)
   */
  readonly resolve?: Resolver;
  /**
   * The Lambda runtime API endpoint (`host:port`); its address is refused even
   * when `allowedAddresses` covers it.
   * @default process.env.AWS_LAMBDA_RUNTIME_API
   */
  readonly lambdaRuntimeApi?: string;
}

interface GatewaySettings {
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly headers: OutgoingHttpHeaders;
  readonly policy: AddressPolicy;
  readonly resolve: Resolver;
  readonly urlTemplate?: string;
  readonly apiKey?: ApiKeyProvider;
}

/** Per-fetch state: the deadline's signal and the hop errors should name. */
interface FetchContext {
  readonly signal: AbortSignal;
  /** Replaced once the API key is known, so the key is redacted too. */
  redact: Redactor;
  shownUrl: string;
}

/**
 * Builds the gateway. Options are checked here, so a bad setting fails at
 * start-up with a {@link GatewaySettingsError}, not on the first task.
 *
 * @example
 * const fetchTarget = createGateway({ maxBytes: 1_000_000 });
 * const page = await fetchTarget('https://example.com/', { timeoutMs: 10_000 });
 */
export const createGateway = (options: GatewayOptions = {}): FetchTarget => {
  const settings = settingsFrom(options);

  return (url, fetchOptions) => fetchWithDeadline(settings, url, fetchOptions.timeoutMs);
};

const settingsFrom = (options: GatewayOptions): GatewaySettings => {
  const maxBytes = options.maxBytes ?? DEFAULTS.fetchMaxBytes;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  requireInteger('maxBytes', maxBytes, 1);
  requireInteger('maxRedirects', maxRedirects, 0);
  if (options.urlTemplate !== undefined) {
    validateUrlTemplate(options.urlTemplate, options.apiKey !== undefined);
  } else if (options.apiKey !== undefined) {
    throw new GatewaySettingsError('apiKey', 'apiKey is set but urlTemplate is not; set both');
  }

  const policy = createAddressPolicy({
    allowedAddresses: options.allowedAddresses,
    lambdaRuntimeApi: options.lambdaRuntimeApi ?? process.env.AWS_LAMBDA_RUNTIME_API,
  });
  const headers = {
    'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
    accept: '*/*',
    'accept-encoding': ACCEPTED_ENCODINGS,
  };

  return {
    maxBytes,
    maxRedirects,
    headers,
    policy,
    resolve: options.resolve ?? systemResolver,
    urlTemplate: options.urlTemplate,
    apiKey: options.apiKey,
  };
};

const requireInteger = (setting: string, value: number, minimum: number): void => {
  if (!Number.isInteger(value) || value < minimum) {
    throw new GatewaySettingsError(
      setting,
      `${setting} must be an integer of at least ${minimum}; got ${value}`,
    );
  }
};

/**
 * Runs the fetch against one timer. At the deadline the signal destroys the
 * request in flight (connecting, waiting for headers or reading the body) and
 * the fetch rejects with FetchTimeoutError, even if a seam (DNS, key provider)
 * is still pending.
 */
const fetchWithDeadline = async (
  settings: GatewaySettings,
  url: string,
  timeoutMs: number,
): Promise<FetchedPage> => {
  if (!Number.isFinite(timeoutMs) || timeoutMs > MAX_TIMER_MS) {
    throw new GatewaySettingsError(
      'timeoutMs',
      `timeoutMs must be a finite number of at most ${MAX_TIMER_MS}; got ${timeoutMs}`,
    );
  }
  const redact = createRedactor();
  if (timeoutMs <= 0) throw new FetchTimeoutError(redact(url), timeoutMs);

  const controller = new AbortController();
  const context: FetchContext = { signal: controller.signal, redact, shownUrl: redact(url) };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new FetchTimeoutError(context.shownUrl, timeoutMs));
      controller.abort();
    }, timeoutMs);
  });

  try {
    return await Promise.race([fetchPage(settings, url, context), deadline]);
  } finally {
    clearTimeout(timer);
  }
};

const fetchPage = async (
  settings: GatewaySettings,
  rawUrl: string,
  context: FetchContext,
): Promise<FetchedPage> => {
  const target = parseFetchableUrl(rawUrl, context.redact);
  refuseBlockedLiteral(settings, target, context);
  const firstHop = await firstHopUrl(settings, target, context);

  const { response, url, redirects } = await followRedirects(settings, firstHop, context);
  const body = await readBody(settings, response, context);

  return {
    status: response.statusCode ?? 0,
    body,
    contentType: response.headers['content-type'],
    finalUrl: settings.urlTemplate === undefined ? url.href : target.href,
    redirects,
  };
};

/**
 * Refuses an IP-literal target before anything is sent. With a scraping API
 * this is the only address check on the target: the API must not be asked for
 * `http://169.254.169.254/` either.
 */
const refuseBlockedLiteral = (settings: GatewaySettings, target: URL, context: FetchContext) => {
  const host = connectHost(target);
  if (!isLiteralAddress(host)) return;

  const verdict = settings.policy.check(host);
  if (!verdict.allowed) throw new BlockedAddressError(context.shownUrl, host, host, verdict.range);
};

/** The target itself, or the scraping API's URL for it (the key goes in here). */
const firstHopUrl = async (
  settings: GatewaySettings,
  target: URL,
  context: FetchContext,
): Promise<URL> => {
  if (settings.urlTemplate === undefined) return target;

  const key = settings.apiKey === undefined ? '' : await readApiKey(settings.apiKey, context);
  context.redact = createRedactor([key]);

  return parseFetchableUrl(fillUrlTemplate(settings.urlTemplate, target.href, key), context.redact);
};

const readApiKey = async (apiKey: ApiKeyProvider, context: FetchContext): Promise<string> => {
  try {
    return await apiKey();
  } catch (cause) {
    const source = cause instanceof ApiKeyReadError ? cause.source : 'the apiKey provider';
    throw new GatewayKeyUnavailableError(context.shownUrl, source, { cause });
  }
};

interface FinalResponse {
  readonly response: IncomingMessage;
  readonly url: URL;
  readonly redirects: number;
}

/** Follows redirects; each hop's scheme and address are checked afresh. */
const followRedirects = async (
  settings: GatewaySettings,
  firstHop: URL,
  context: FetchContext,
): Promise<FinalResponse> => {
  let url = firstHop;

  for (let redirects = 0; ; redirects += 1) {
    const response = await sendHop(settings, url, context);
    const location = redirectLocation(response);
    if (location === undefined) return { response, url, redirects };

    response.destroy();
    if (redirects === settings.maxRedirects) {
      throw new TooManyRedirectsError(context.shownUrl, settings.maxRedirects);
    }
    url = parseFetchableUrl(location, context.redact, url);
  }
};

const sendHop = async (
  settings: GatewaySettings,
  url: URL,
  context: FetchContext,
): Promise<IncomingMessage> => {
  context.shownUrl = context.redact(url.href);
  const hop = { ...settings, url, shownUrl: context.shownUrl, signal: context.signal };

  try {
    return await requestHop(hop);
  } catch (error) {
    throw toGatewayError(error, context.shownUrl);
  }
};

const redirectLocation = (response: IncomingMessage): string | undefined => {
  const location = response.headers.location;

  return REDIRECT_STATUSES.has(response.statusCode ?? 0) && location ? location : undefined;
};

/** Reads a 2xx body under the cap; any other status becomes its error, unread. */
const readBody = async (
  settings: GatewaySettings,
  response: IncomingMessage,
  context: FetchContext,
): Promise<Buffer> => {
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    response.destroy();
    throw statusError(response, status, context.shownUrl);
  }

  try {
    return await readCappedBody(response, settings.maxBytes, context.shownUrl);
  } catch (error) {
    throw toGatewayError(error, context.shownUrl);
  }
};

const statusError = (response: IncomingMessage, status: number, url: string): GatewayError => {
  if (status === TOO_MANY_REQUESTS || (status >= 500 && status <= 599)) {
    return new RetryableStatusError(
      url,
      status,
      retryAfterSeconds(response.headers['retry-after']),
    );
  }

  return new PermanentStatusError(url, status);
};

export { gatewayOptionsFromEnv } from './env';
