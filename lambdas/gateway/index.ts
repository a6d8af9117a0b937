/**
 * The gateway: the worker's only way to fetch a user-supplied URL.
 */
export { createGateway, DEFAULT_MAX_REDIRECTS, DEFAULT_USER_AGENT } from './gateway';
export type { FetchedPage, FetchOptions, FetchTarget, GatewayOptions } from './gateway';
export {
  ApiKeyReadError,
  DEFAULT_KEY_MAX_AGE_SECONDS,
  keyFromParameter,
  keyFromSecret,
} from './api-key';
export type { ApiKeyProvider, KeyProviderOptions } from './api-key';
export { gatewayOptionsFromEnv } from './env';
export { addressRange } from './addresses';
export type { ResolvedAddress, Resolver } from './hop';
export * from './errors';
