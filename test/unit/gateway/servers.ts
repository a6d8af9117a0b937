/**
 * Local HTTP servers for the gateway tests, bound to loopback only.
 */
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly port: number;
  /** Requests received so far, in order. */
  readonly requests: IncomingMessage[];
  /** A URL on this server, e.g. `url('/page')`. */
  url(path?: string): string;
  close(): Promise<void>;
}

/** Starts a server on `host` (127.0.0.1 unless told) with a free port. */
export const startServer = async (
  handler: RequestListener,
  host = '127.0.0.1',
): Promise<TestServer> => {
  const requests: IncomingMessage[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    port,
    requests,
    url: (path = '/') => `http://${urlHost}:${port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Answers every request with `status`, `headers` and `body`. */
export const respondWith =
  (
    status: number,
    headers: http.OutgoingHttpHeaders = {},
    body: string | Buffer = '',
  ): RequestListener =>
  (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, headers);
    response.end(body);
  };

/** True when this machine can listen on ::1. */
export const ipv6LoopbackAvailable = async (): Promise<boolean> => {
  try {
    const server = await startServer(respondWith(200), '::1');
    await server.close();

    return true;
  } catch {
    return false;
  }
};

/** A resolver seam that answers every name with the given addresses. */
export const resolveTo =
  (...addresses: string[]) =>
  async (): Promise<{ address: string; family: number }[]> =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

/** The error a promise rejects with; fails the test if it resolves. */
export const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('Expected the promise to reject with an Error');

  return outcome;
};
