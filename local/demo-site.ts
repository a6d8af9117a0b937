/**
 * A small HTTP site on 127.0.0.1 for the local demo and tests: fast pages,
 * pages slower than the queue's visibility timeout (so redeliveries really
 * happen), pages that fail a few times before they answer, missing pages and
 * redirects. It counts every request, so a run can report its target calls.
 *
 * Routes (GET or HEAD):
 * - `/ok/:id`: 200 with a small HTML page;
 * - `/slow/:id?ms=N`: the same page after N ms (default `slowDelayMs`);
 * - `/flaky/:id?failures=N`: 503 for the first N requests of that id, then 200;
 * - `/missing/:id`: 404;
 * - `/redirect/:id`: 302 to `/ok/:id`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidSettingError } from './errors';

export const PAGE_KIND = {
  ok: 'ok',
  slow: 'slow',
  flaky: 'flaky',
  missing: 'missing',
  redirect: 'redirect',
} as const;

export type PageKind = (typeof PAGE_KIND)[keyof typeof PAGE_KIND];

export const DEFAULT_SLOW_DELAY_MS = 3_000;
export const MAX_SLOW_DELAY_MS = 600_000;
export const DEFAULT_FLAKY_FAILURES = 2;
const MAX_FLAKY_FAILURES = 1_000;
const PATH_PATTERN = /^\/(ok|slow|flaky|missing|redirect)\/([A-Za-z0-9_-]{1,100})$/;

/** Relative weights of page kinds; kinds left out get none. */
export type DemoMix = Readonly<Partial<Record<PageKind, number>>>;

export const DEFAULT_DEMO_MIX: DemoMix = {
  ok: 0.8,
  slow: 0.05,
  flaky: 0.07,
  missing: 0.04,
  redirect: 0.04,
};

export interface DemoSiteOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Delay of a slow page without `?ms=`. @default 3000 */
  readonly slowDelayMs?: number;
  /** Failures of a flaky page without `?failures=`. @default 2 */
  readonly flakyFailures?: number;
}

/** Requests received, per page kind (`other` for paths outside the routes). */
export interface DemoSiteCounts {
  readonly total: number;
  readonly byKind: Readonly<Record<PageKind | 'other', number>>;
}

export interface DemoSite {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly baseUrl: string;
  readonly port: number;
  counts(): DemoSiteCounts;
  /** Requests received for one page, e.g. `requestsFor('flaky', '7')`. */
  requestsFor(kind: PageKind, id: string): number;
  /** Stops listening, ends slow answers and closes keep-alive connections. Idempotent. */
  close(): Promise<void>;
}

export interface DemoUrlOptions {
  /** `?ms=` of slow pages. @default the site's slowDelayMs */
  readonly slowMs?: number;
  /** `?failures=` of flaky pages. @default the site's flakyFailures */
  readonly flakyFailures?: number;
}

const requireInteger = (setting: string, value: number, min: number, max: number) => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSettingError(setting, `an integer from ${min} to ${max}`, value);
  }
};

const pageHtml = (kind: PageKind, id: string) =>
  `<!doctype html><html><head><title>Demo page ${id}</title></head>` +
  `<body><h1>Demo ${kind} page ${id}</h1><p>Served by the conveyor demo site.</p></body></html>\n`;

/** Reads an integer query parameter; undefined when absent, NaN when malformed. */
const integerParameter = (url: URL, name: string): number | undefined => {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;

  return /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
};

interface DemoRoute {
  readonly kind: PageKind;
  readonly id: string;
  readonly url: URL;
}

/** Counts and answers the demo site's requests. */
class DemoSiteServer {
  private readonly byKind: Record<PageKind | 'other', number> = {
    ok: 0,
    slow: 0,
    flaky: 0,
    missing: 0,
    redirect: 0,
    other: 0,
  };
  private readonly byPage = new Map<string, number>();
  private readonly slowTimers = new Set<NodeJS.Timeout>();
  private total = 0;
  baseUrl = '';

  constructor(
    private readonly slowDelayMs: number,
    private readonly flakyFailures: number,
  ) {}

  counts(): DemoSiteCounts {
    return { total: this.total, byKind: { ...this.byKind } };
  }

  requestsFor(kind: PageKind, id: string): number {
    return this.byPage.get(`${kind}/${id}`) ?? 0;
  }

  cancelSlowAnswers() {
    for (const timer of this.slowTimers) clearTimeout(timer);
    this.slowTimers.clear();
  }

  handle(request: IncomingMessage, response: ServerResponse) {
    this.total += 1;
    const route = this.route(request);
    if (!route) {
      this.byKind.other += 1;
      this.answer(response, 404, 'Not found\n');
      return;
    }

    this.byKind[route.kind] += 1;
    const pageKey = `${route.kind}/${route.id}`;
    const seen = (this.byPage.get(pageKey) ?? 0) + 1;
    this.byPage.set(pageKey, seen);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      this.answer(response, 405, 'Method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }

    this.answerPage(route, seen, response);
  }

  private route(request: IncomingMessage): DemoRoute | undefined {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const match = PATH_PATTERN.exec(url.pathname);
    if (!match) return undefined;

    return { kind: match[1] as PageKind, id: match[2] as string, url };
  }

  private answerPage(route: DemoRoute, seen: number, response: ServerResponse) {
    const html = pageHtml(route.kind, route.id);
    switch (route.kind) {
      case PAGE_KIND.ok:
        return this.answer(response, 200, html);
      case PAGE_KIND.missing:
        return this.answer(response, 404, 'Not found\n');
      case PAGE_KIND.redirect:
        return this.answer(response, 302, '', { location: `${this.baseUrl}/ok/${route.id}` });
      case PAGE_KIND.flaky:
        return this.answerFlaky(route, seen, html, response);
      case PAGE_KIND.slow:
        return this.answerSlow(route, html, response);
    }
  }

  private answerFlaky(route: DemoRoute, seen: number, html: string, response: ServerResponse) {
    const failures = integerParameter(route.url, 'failures') ?? this.flakyFailures;
    if (Number.isNaN(failures)) return this.answer(response, 400, 'failures must be an integer\n');
    if (seen <= failures) {
      return this.answer(response, 503, 'Try again later\n', { 'retry-after': '1' });
    }

    this.answer(response, 200, html);
  }

  private answerSlow(route: DemoRoute, html: string, response: ServerResponse) {
    const delayMs = integerParameter(route.url, 'ms') ?? this.slowDelayMs;
    if (Number.isNaN(delayMs) || delayMs > MAX_SLOW_DELAY_MS) {
      return this.answer(response, 400, `ms must be an integer up to ${MAX_SLOW_DELAY_MS}\n`);
    }

    const timer = setTimeout(() => {
      this.slowTimers.delete(timer);
      this.answer(response, 200, html);
    }, delayMs);
    this.slowTimers.add(timer);
    response.once('close', () => {
      clearTimeout(timer);
      this.slowTimers.delete(timer);
    });
  }

  private answer(
    response: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) {
    if (response.writableEnded || response.destroyed) return;

    response.writeHead(status, {
      'content-type': status === 200 ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    response.end(response.req.method === 'HEAD' ? undefined : body);
  }
}

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/** Starts the demo site on 127.0.0.1 and resolves once it listens. */
export const startDemoSite = async (options: DemoSiteOptions = {}): Promise<DemoSite> => {
  const slowDelayMs = options.slowDelayMs ?? DEFAULT_SLOW_DELAY_MS;
  requireInteger('slowDelayMs', slowDelayMs, 0, MAX_SLOW_DELAY_MS);
  const flakyFailures = options.flakyFailures ?? DEFAULT_FLAKY_FAILURES;
  requireInteger('flakyFailures', flakyFailures, 0, MAX_FLAKY_FAILURES);
  requireInteger('port', options.port ?? 0, 0, 65_535);

  const site = new DemoSiteServer(slowDelayMs, flakyFailures);
  const server = createServer((request, response) => site.handle(request, response));
  const port = await listen(server, options.port ?? 0);
  site.baseUrl = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      site.cancelSlowAnswers();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });

  return {
    baseUrl: site.baseUrl,
    port,
    counts: () => site.counts(),
    requestsFor: (kind, id) => site.requestsFor(kind, id),
    close: () => (closing ??= close()),
  };
};

const normaliseMix = (mix: DemoMix): [PageKind, number][] => {
  const weights = Object.entries(mix) as [PageKind, number][];
  for (const [kind, weight] of weights) {
    if (!(kind in PAGE_KIND)) {
      throw new InvalidSettingError('mix', `keyed by ${Object.keys(PAGE_KIND).join(', ')}`, kind);
    }
    if (!Number.isFinite(weight) || weight < 0) {
      throw new InvalidSettingError(`mix.${kind}`, 'a non-negative number', weight);
    }
  }
  const positive = weights.filter(([, weight]) => weight > 0);
  if (positive.length === 0) throw new InvalidSettingError('mix', 'given a positive weight', mix);

  return positive;
};

/**
 * The kind of page for each of `count` tasks: each kind gets its share of
 * `mix` (within one task), spread evenly over the positions rather than in
 * blocks (smooth weighted round robin), the same for the same arguments.
 */
export const demoPageKinds = (count: number, mix: DemoMix = DEFAULT_DEMO_MIX): PageKind[] => {
  requireInteger('count', count, 0, Number.MAX_SAFE_INTEGER);
  const weights = normaliseMix(mix);
  const totalWeight = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const credit = new Map(weights.map(([kind]) => [kind, 0]));

  return Array.from({ length: count }, () => {
    let chosen = weights[0]?.[0] as PageKind;
    for (const [kind, weight] of weights) {
      credit.set(kind, (credit.get(kind) ?? 0) + weight);
      if ((credit.get(kind) ?? 0) > (credit.get(chosen) ?? 0)) chosen = kind;
    }
    credit.set(chosen, (credit.get(chosen) ?? 0) - totalWeight);

    return chosen;
  });
};

/**
 * `count` page URLs of the demo site at `baseUrl` in the proportions of
 * `mix` (see {@link demoPageKinds}); the page id is the task's position.
 */
export const demoUrls = (
  baseUrl: string,
  count: number,
  mix: DemoMix = DEFAULT_DEMO_MIX,
  options: DemoUrlOptions = {},
): string[] => {
  const root = baseUrl.replace(/\/+$/, '');
  const query: Partial<Record<PageKind, string>> = {
    slow: options.slowMs === undefined ? '' : `?ms=${options.slowMs}`,
    flaky: options.flakyFailures === undefined ? '' : `?failures=${options.flakyFailures}`,
  };

  return demoPageKinds(count, mix).map(
    (kind, position) => `${root}/${kind}/${position}${query[kind] ?? ''}`,
  );
};
