/**
 * The dashboard's route file: index.html for / and the dashboard's own paths, hashed assets, each
 * with a strict CSP, nosniff and no-referrer; long cache for assets, no-cache for the page; and the
 * API's paths (/v1, /compat, /docs, /openapi.json, /healthz, /readyz) never shadowed.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DEFAULT_DASHBOARD_DIR, dashboardRoutes } from '../../src/http/routes/dashboard.js';
import { makeHarness, type Harness } from '../helpers/http-harness.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head></html>';

let dir: string;
let app: FastifyInstance;
let h: Harness;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-dashboard-route-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
  app = Fastify();
  await app.register(dashboardRoutes, { root: dir });
  await app.ready();
  h = await makeHarness();
});
afterAll(async () => {
  await app.close();
  await h.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const SECURITY = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

describe('the dashboard route (a fixture build)', () => {
  it('answers index.html, no-cache, with the security headers, for / and each dashboard path', async () => {
    for (const url of [
      '/',
      '/tasks',
      '/tasks/OPS-42',
      '/tasks/0190c2a4-0000-7000-8000-000000000001',
      '/types',
      '/types/email.send',
      '/keys',
      '/webhooks',
      '/?status=failed&type=x',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.headers, url).toMatchObject(SECURITY);
      expect(res.body).toBe(INDEX);
    }
  });

  it('serves hashed assets cached for a year, immutable, with the same headers', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers).toMatchObject(SECURITY);
    const css = await app.inject({ url: '/assets/index-abc123.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/assets/../index.html' })).statusCode).not.toBe(200);
  });

  it('the CSP allows only this origin: no inline script or style, no framing, no base, no other host', () => {
    const directives = Object.fromEntries(
      DASHBOARD_CSP.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'img-src': "'self' data:",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'self'",
    });
    expect(DASHBOARD_CSP).not.toContain('unsafe');
  });

  it('says so, with a 503, when the dashboard is not built', async () => {
    const bare = Fastify();
    await bare.register(dashboardRoutes, { root: join(dir, 'nothing-here') });
    const res = await bare.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    expect(res.headers).toMatchObject(SECURITY);
    await bare.close();
  });
});

describe('the dashboard in the real app', () => {
  it('never shadows the API: /v1, /compat, /docs, /openapi.json, /healthz, /readyz keep their answers', async () => {
    const api = await h.call(null, 'GET', '/v1/tasks');
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.headers['content-security-policy']).toBeUndefined();
    expect((await h.call(null, 'GET', '/v1/nope')).statusCode).toBe(404);
    expect((await h.call(null, 'GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await h.call(null, 'GET', '/readyz')).statusCode).toBe(200);
    expect((await h.call(null, 'GET', '/openapi.json')).headers['content-type']).toMatch(/application\/json/);
    expect((await h.call(null, 'GET', '/docs/')).statusCode).toBe(200);
    expect((await h.call(null, 'GET', '/compat/capy/v1/tasks/x')).headers['content-type']).toMatch(/json/);
    // Not a dashboard path: the API's own 404.
    const other = await h.call(null, 'GET', '/elsewhere');
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('hides its routes from the OpenAPI document', async () => {
    const doc = (await h.call(null, 'GET', '/openapi.json')).json<{ paths: Record<string, unknown> }>();
    // None of the dashboard's paths, whatever else the document lists beside /v1.
    const ours = Object.keys(doc.paths).filter((p) => p === '/' || /^\/(tasks|types|keys|assets)(\/|$)/.test(p));
    expect(ours).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/healthz');
  });

  const built = existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'));
  it.skipIf(!built)(
    'serves the built dashboard at / with the headers, and its page has no inline script or style' +
      (built ? '' : ' (skipped: the dashboard is not built; `npm test` builds it first)'),
    async () => {
      const res = await h.call(null, 'GET', '/');
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject(SECURITY);
      const html = readFileSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'), 'utf8');
      expect(res.body).toBe(html);
      // Every <script> has a src (none inline), no style attribute or <style> element, no other host.
      for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
        expect(m[0]).toMatch(/\ssrc="\/assets\//);
        expect(m[1]).toBe('');
      }
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      expect(html).not.toMatch(/https?:\/\//);
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      const js = await h.call(null, 'GET', asset ?? '/assets/none.js');
      expect(js.statusCode).toBe(200);
      expect(js.headers['cache-control']).toContain('immutable');
    },
  );
});
