/**
 * Errors of the gateway. Every failure of a fetch is a {@link GatewayError};
 * the worker decides between releasing a task (retry later) and settling it as
 * failed only from {@link GatewayError.retryable}. Each error carries the URL
 * of the hop that failed, with any API key and password already redacted.
 */
import { ConveyorError } from '../domain/errors';

/** Base class of every error a fetch throws. */
export class GatewayError extends ConveyorError {
  override readonly name: string = 'GatewayError';

  constructor(
    message: string,
    /** True when the same fetch may succeed later (time-outs, 5xx, resets). */
    readonly retryable: boolean,
    /** The URL of the hop that failed, redacted. */
    readonly url: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** The URL does not parse, or its scheme is not http: or https:. Permanent. */
export class InvalidTargetUrlError extends GatewayError {
  override readonly name = 'InvalidTargetUrlError';

  constructor(
    url: string,
    readonly reason: string,
  ) {
    super(`Target URL ${url} is not fetchable: ${reason}`, false, url);
  }
}

/** The host resolves to, or is, an address that is not public unicast. Permanent. */
export class BlockedAddressError extends GatewayError {
  override readonly name = 'BlockedAddressError';

  constructor(
    url: string,
    readonly host: string,
    readonly address: string,
    /** Why the address is refused, e.g. `loopback`, `private`, `linkLocal`. */
    readonly range: string,
  ) {
    super(`Host ${host} is refused: address ${address} is ${range}, not public`, false, url);
  }
}

/** DNS says the host does not exist. Permanent. */
export class HostNotFoundError extends GatewayError {
  override readonly name = 'HostNotFoundError';

  constructor(
    url: string,
    readonly host: string,
    options: { cause: unknown },
  ) {
    super(`Host ${host} was not found in DNS`, false, url, options);
  }
}

/** A redirect chain longer than the gateway's `maxRedirects`. Permanent. */
export class TooManyRedirectsError extends GatewayError {
  override readonly name = 'TooManyRedirectsError';

  constructor(
    url: string,
    readonly maxRedirects: number,
  ) {
    super(
      `Fetch of ${url} followed more than maxRedirects (${maxRedirects}) redirects`,
      false,
      url,
    );
  }
}

/** The fetch's overall deadline passed (DNS, connect, redirects and body). Retryable. */
export class FetchTimeoutError extends GatewayError {
  override readonly name = 'FetchTimeoutError';

  constructor(
    url: string,
    readonly timeoutMs: number,
  ) {
    super(`Fetch of ${url} did not finish within timeoutMs (${timeoutMs} ms)`, true, url);
  }
}

/** The body passed the byte cap, counted after decompression. Permanent. */
export class ResponseTooLargeError extends GatewayError {
  override readonly name = 'ResponseTooLargeError';

  constructor(
    url: string,
    readonly maxBytes: number,
    /** Bytes seen (decompressed, or announced by Content-Length) when reading stopped. */
    readonly receivedBytes: number,
  ) {
    super(
      `Response of ${url} is larger than maxBytes (${maxBytes}); stopped at ${receivedBytes} bytes`,
      false,
      url,
    );
  }
}

/** HTTP 429 or 5xx: the target may answer later. Retryable. */
export class RetryableStatusError extends GatewayError {
  override readonly name = 'RetryableStatusError';

  constructor(
    url: string,
    readonly status: number,
    /** The server's Retry-After, in seconds from now, when it sent a valid one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Target ${url} answered HTTP ${status}`, true, url);
  }
}

/** Any other non-2xx answer (4xx, a 3xx without Location). Permanent. */
export class PermanentStatusError extends GatewayError {
  override readonly name = 'PermanentStatusError';

  constructor(
    url: string,
    readonly status: number,
  ) {
    super(`Target ${url} answered HTTP ${status}`, false, url);
  }
}

/** The connection failed: refused, reset, unreachable, temporary DNS failure. Retryable. */
export class ConnectionFailedError extends GatewayError {
  override readonly name = 'ConnectionFailedError';

  constructor(
    url: string,
    /** The system error code, e.g. `ECONNRESET`, when there is one. */
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(`Connection to ${url} failed (${code ?? 'no error code'})`, true, url, options);
  }
}

/** The TLS handshake failed: bad certificate, wrong host name. Permanent. */
export class TlsFailedError extends GatewayError {
  override readonly name = 'TlsFailedError';

  constructor(
    url: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(`TLS to ${url} failed (${code})`, false, url, options);
  }
}

/** The body is in an unknown Content-Encoding, or does not decode. Permanent. */
export class ContentDecodingError extends GatewayError {
  override readonly name = 'ContentDecodingError';

  constructor(
    url: string,
    readonly encoding: string,
    options?: { cause: unknown },
  ) {
    super(
      `Response of ${url} cannot be decoded from Content-Encoding "${encoding}"`,
      false,
      url,
      options,
    );
  }
}

/**
 * The scraping API's key could not be read from Secrets Manager or SSM.
 * Retryable: throttling is the usual cause, and a misconfiguration fails every
 * task alike, so it shows quickly either way.
 */
export class GatewayKeyUnavailableError extends GatewayError {
  override readonly name = 'GatewayKeyUnavailableError';

  constructor(
    url: string,
    /** Where the key was read from, e.g. `secret my/key` or `parameter /my/key`. */
    readonly source: string,
    options: { cause: unknown },
  ) {
    super(`The gateway API key from ${source} is unavailable`, true, url, options);
  }
}

/** A gateway option or environment variable with a value the gateway cannot use. */
export class GatewaySettingsError extends ConveyorError {
  override readonly name = 'GatewaySettingsError';

  constructor(
    /** The option or environment variable(s) at fault. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}
