/**
 * The benchmark's target site: a plain HTTP server on 127.0.0.1 that answers
 * every GET with the same small page after a fixed latency, and counts the
 * requests it served.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A page about the size of a small product page's text. */
const PAGE_BODY = `<!doctype html><html><body>${'<p>conveyor benchmark page</p>'.repeat(32)}</body></html>`;

export interface BenchTarget {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Requests answered since the last reset. */
  requests(): number;
  resetRequests(): void;
  /** Changes how long each answer waits, for the next requests. */
  setLatencyMs(latencyMs: number): void;
  close(): Promise<void>;
}

/** Starts the target on a free port of 127.0.0.1. */
export const startBenchTarget = async (initialLatencyMs = 0): Promise<BenchTarget> => {
  let latencyMs = initialLatencyMs;
  let served = 0;
  const server: Server = createServer((request, response) => {
    served += 1;
    const answer = () => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE_BODY);
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => served,
    resetRequests: () => {
      served = 0;
    },
    setLatencyMs: (next) => {
      latencyMs = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
