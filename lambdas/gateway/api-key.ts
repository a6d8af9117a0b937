/**
 * Providers of the scraping API's key, read from Secrets Manager or SSM
 * Parameter Store through Powertools Parameters, which caches the value for
 * `maxAgeSeconds` so a busy worker does not read the secret per task.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { ConveyorError } from '../domain/errors';

/** Returns the scraping API's key; called once per fetch, so it should cache. */
export type ApiKeyProvider = () => Promise<string>;

/** How long a key read from Secrets Manager or SSM is reused. */
export const DEFAULT_KEY_MAX_AGE_SECONDS = 300;

export interface KeyProviderOptions {
  /**
   * Seconds a read key is cached before it is read again (a rotated key is
   * picked up within this time).
   * @default DEFAULT_KEY_MAX_AGE_SECONDS (300)
   */
  readonly maxAgeSeconds?: number;
}

/** The key could not be read. The message names where from, never the key. */
export class ApiKeyReadError extends ConveyorError {
  override readonly name = 'ApiKeyReadError';

  constructor(
    /** Where the key was read from, e.g. `secret my/key`. */
    readonly source: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(`Reading the gateway API key from ${source} failed: ${reason}`, options);
  }
}

/**
 * A key provider reading the secret's string value from Secrets Manager.
 *
 * @example
 * createGateway({ urlTemplate, apiKey: keyFromSecret('conveyor/gateway-key') });
 */
export const keyFromSecret = (
  secretId: string,
  options: KeyProviderOptions = {},
): ApiKeyProvider => {
  const maxAge = options.maxAgeSeconds ?? DEFAULT_KEY_MAX_AGE_SECONDS;

  return () => readKey(`secret ${secretId}`, () => getSecret(secretId, { maxAge }));
};

/**
 * A key provider reading an SSM parameter, decrypted (SecureString).
 *
 * @example
 * createGateway({ urlTemplate, apiKey: keyFromParameter('/conveyor/gateway-key') });
 */
export const keyFromParameter = (
  name: string,
  options: KeyProviderOptions = {},
): ApiKeyProvider => {
  const maxAge = options.maxAgeSeconds ?? DEFAULT_KEY_MAX_AGE_SECONDS;

  return () => readKey(`parameter ${name}`, () => getParameter(name, { decrypt: true, maxAge }));
};

const readKey = async (
  source: string,
  read: () => Promise<string | Uint8Array | undefined>,
): Promise<string> => {
  let value: string | Uint8Array | undefined;
  try {
    value = await read();
  } catch (cause) {
    throw new ApiKeyReadError(source, describe(cause), { cause });
  }

  const key = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value;
  if (key === undefined || key.trim() === '')
    throw new ApiKeyReadError(source, 'the value is empty');

  return key.trim();
};

const describe = (cause: unknown): string =>
  cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
