import { request } from 'node:http';
import {
  demoPageKinds,
  demoUrls,
  startDemoSite,
  type DemoSite,
  type PageKind,
} from '../../local/demo-site';
import { InvalidSettingError } from '../../local/errors';
import { eventually } from './helpers';

const get = (site: DemoSite, path: string) =>
  fetch(`${site.baseUrl}${path}`, { redirect: 'manual' });

const countKinds = (kinds: readonly PageKind[]) =>
  kinds.reduce<Record<string, number>>((counts, kind) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  }, {});

describe('demo site', () => {
  let site: DemoSite;

  beforeEach(async () => {
    site = await startDemoSite({ slowDelayMs: 40, flakyFailures: 2 });
  });

  afterEach(() => site.close());

  it('listens on 127.0.0.1 on a free port', () => {
    expect(site.baseUrl).toBe(`http://127.0.0.1:${site.port}`);
    expect(site.port).toBeGreaterThan(0);
  });

  it('answers an ok page with a small HTML body', async () => {
    const response = await get(site, '/ok/7');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('Demo ok page 7');
  });

  it('answers a slow page only after its delay', async () => {
    const startedAt = Date.now();
    const response = await get(site, '/slow/1?ms=120');
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(body).toContain('Demo slow page 1');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(110);
  });

  it('fails a flaky page for its first requests, per id, then answers it', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      statuses.push((await get(site, '/flaky/3?failures=3')).status);
    }
    const otherId = await get(site, '/flaky/4');

    expect(statuses).toEqual([503, 503, 503, 200]);
    expect(otherId.status).toBe(503);
    expect(site.requestsFor('flaky', '3')).toBe(4);
  });

  it('answers 404 for a missing page and for paths outside the routes', async () => {
    const missing = await get(site, '/missing/9');
    const outside = await get(site, '/elsewhere');

    expect(missing.status).toBe(404);
    expect(outside.status).toBe(404);
    expect(site.counts().byKind).toMatchObject({ missing: 1, other: 1 });
  });

  it('redirects to the ok page of the same id', async () => {
    const redirect = await get(site, '/redirect/5');
    const followed = await fetch(`${site.baseUrl}/redirect/5`);

    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${site.baseUrl}/ok/5`);
    expect(followed.status).toBe(200);
    expect(site.requestsFor('ok', '5')).toBe(1);
  });

  it('rejects malformed page parameters', async () => {
    const response = await get(site, '/slow/1?ms=soon');

    expect(response.status).toBe(400);
  });

  it('counts requests per kind and in total', async () => {
    await Promise.all(
      ['/ok/1', '/ok/2', '/missing/1', '/redirect/1'].map((path) => get(site, path)),
    );

    expect(site.counts()).toEqual({
      total: 4,
      byKind: { ok: 2, slow: 0, flaky: 0, missing: 1, redirect: 1, other: 0 },
    });
  });

  it('closes promptly with a keep-alive connection open and a slow answer pending', async () => {
    await (await get(site, '/ok/1')).text();
    const pending = new Promise<string>((resolve) => {
      request(`${site.baseUrl}/slow/2?ms=60000`)
        .on('error', (error) => resolve(error.message))
        .end();
    });
    await eventually(() => site.counts().byKind.slow === 1);

    const startedAt = Date.now();
    await site.close();

    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(await pending).toBe('socket hang up');
  });

  it('names the setting and the value received when an option is out of range', async () => {
    await expect(startDemoSite({ slowDelayMs: -5 })).rejects.toThrow(InvalidSettingError);
    await expect(startDemoSite({ slowDelayMs: -5 })).rejects.toThrow(
      'slowDelayMs must be an integer from 0 to 600000; received -5',
    );
  });
});

describe('demoUrls', () => {
  it('produces the default mix of 80/5/7/4/4 percent, spread over the positions', () => {
    const kinds = demoPageKinds(100);

    expect(countKinds(kinds)).toEqual({ ok: 80, slow: 5, flaky: 7, missing: 4, redirect: 4 });
    expect(countKinds(kinds.slice(0, 50)).ok).toBeGreaterThanOrEqual(39);
  });

  it('produces the same URLs for the same arguments', () => {
    const first = demoUrls('http://127.0.0.1:8080/', 30, undefined, { slowMs: 500 });
    const second = demoUrls('http://127.0.0.1:8080/', 30, undefined, { slowMs: 500 });

    expect(second).toEqual(first);
    expect(first[0]).toBe('http://127.0.0.1:8080/ok/0');
    expect(first.filter((url) => url.includes('/slow/'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/slow\/\d+\?ms=500$/)]),
    );
  });

  it('follows a custom mix and leaves out kinds it does not name', () => {
    const kinds = demoPageKinds(10, { ok: 1, slow: 1 });

    expect(countKinds(kinds)).toEqual({ ok: 5, slow: 5 });
  });

  it('rejects a mix without a positive weight', () => {
    expect(() => demoPageKinds(10, { ok: 0 })).toThrow(InvalidSettingError);
    expect(() => demoPageKinds(10, { ok: -1 })).toThrow('mix.ok must be a non-negative number');
  });
});
