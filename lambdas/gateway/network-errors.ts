/**
 * Turns what node's http, tls and zlib throw into the gateway's errors.
 */
import { ConnectionFailedError, GatewayError, TlsFailedError } from './errors';

/** Certificate and handshake failures that no retry will cure. */
const TLS_FAILURE_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/**
 * A gateway error for anything a hop threw. Gateway errors pass through; TLS
 * verification failures are permanent; everything else (refused, reset,
 * unreachable, a malformed response) is a retryable connection failure.
 */
export const toGatewayError = (error: unknown, url: string): GatewayError => {
  if (error instanceof GatewayError) return error;

  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && TLS_FAILURE_CODES.has(code)) {
    return new TlsFailedError(url, code, { cause: error });
  }

  return new ConnectionFailedError(url, code, { cause: error });
};
