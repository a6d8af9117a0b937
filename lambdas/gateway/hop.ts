/**
 * One HTTP GET, connected only to addresses the policy allows. The address is
 * checked where node picks it: in the request's `lookup` (every DNS answer),
 * before connecting for IP literals (node skips `lookup` for them), and once
 * more on the connected socket's remote address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { AddressPolicy } from './addresses';
import { BlockedAddressError, ConnectionFailedError, HostNotFoundError } from './errors';
import { connectHost, isLiteralAddress } from './urls';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  /** 4 or 6. */
  readonly family: number;
}

/** Resolves a host name to all its addresses (the gateway's DNS seam). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), every answer in order. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

/** DNS error codes that mean the name does not exist, rather than "try later". */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA']);

export interface HopRequest {
  readonly url: URL;
  /** The URL as errors show it (redacted). */
  readonly shownUrl: string;
  readonly headers: OutgoingHttpHeaders;
  readonly policy: AddressPolicy;
  readonly resolve: Resolver;
  /** Aborted at the fetch's deadline; destroys the request and its response. */
  readonly signal: AbortSignal;
}

/** Sends the GET and resolves with the response head; the body is left unread. */
export const requestHop = async (hop: HopRequest): Promise<IncomingMessage> => {
  const host = connectHost(hop.url);
  if (isLiteralAddress(host)) refuseUnlessAllowed(hop, host, host);

  const transport = hop.url.protocol === 'https:' ? https : http;
  const request = transport.request({
    protocol: hop.url.protocol,
    hostname: host,
    port: hop.url.port === '' ? undefined : Number(hop.url.port),
    path: `${hop.url.pathname}${hop.url.search}`,
    method: 'GET',
    headers: hop.headers,
    auth: basicAuth(hop.url),
    lookup: guardedLookup(hop),
    agent: false,
    signal: hop.signal,
  });

  return await new Promise((resolve, reject) => {
    request.once('socket', (socket) => checkRemoteAddressOnConnect(hop, host, socket));
    request.once('response', resolve);
    // Kept for the request's whole life: an error after the response (a reset
    // mid-body, the deadline) must not surface as an unhandled 'error' event.
    request.on('error', reject);
    request.end();
  });
};

const refuseUnlessAllowed = (hop: HopRequest, host: string, address: string): void => {
  const verdict = hop.policy.check(address);
  if (!verdict.allowed) throw new BlockedAddressError(hop.shownUrl, host, address, verdict.range);
};

/**
 * A `lookup` for net.connect that resolves through the seam and refuses the
 * host if any answer is not allowed. Refusing (rather than filtering the bad
 * answers out) keeps a name that mixes public and private answers, a common
 * rebinding trick, from ever being fetched.
 */
const guardedLookup =
  (hop: HopRequest): LookupFunction =>
  (hostname, options, callback) => {
    resolveAllowed(hop, hostname).then(
      (answers) => {
        const usable = answers.filter(
          (answer) => !options.family || answer.family === options.family,
        );
        const [first] = usable;
        if (first === undefined) {
          callback(notFound(hop, hostname), '', 0);
        } else if (options.all) {
          callback(
            null,
            usable.map(({ address, family }) => ({ address, family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

const resolveAllowed = async (
  hop: HopRequest,
  hostname: string,
): Promise<readonly ResolvedAddress[]> => {
  let answers: readonly ResolvedAddress[];
  try {
    answers = await hop.resolve(hostname);
  } catch (cause) {
    throw dnsFailure(hop, hostname, cause);
  }
  answers.forEach((answer) => refuseUnlessAllowed(hop, hostname, answer.address));

  return answers;
};

const dnsFailure = (hop: HopRequest, hostname: string, cause: unknown): Error => {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && NOT_FOUND_CODES.has(code)) {
    return new HostNotFoundError(hop.shownUrl, hostname, { cause });
  }

  return new ConnectionFailedError(hop.shownUrl, code, { cause });
};

const notFound = (hop: HopRequest, hostname: string): HostNotFoundError =>
  new HostNotFoundError(hop.shownUrl, hostname, {
    cause: new Error(`No address of the requested family for ${hostname}`),
  });

/** A last check on the address the socket really connected to. */
const checkRemoteAddressOnConnect = (hop: HopRequest, host: string, socket: Socket): void => {
  socket.once('connect', () => {
    const address = socket.remoteAddress;
    if (address === undefined) return;
    const verdict = hop.policy.check(address);
    if (!verdict.allowed) {
      socket.destroy(new BlockedAddressError(hop.shownUrl, host, address, verdict.range));
    }
  });
};

const basicAuth = (url: URL): string | undefined =>
  url.username === '' && url.password === ''
    ? undefined
    : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
