/**
 * The dashboard (packages/dashboard, built by Vite into its dist/) at `/`: index.html for `/` and
 * the dashboard's own paths (the browser routes them), hashed assets under `/assets/`. Never a
 * path of the API: /v1, /compat, /docs, /openapi.json, /healthz, /readyz and /metrics stay theirs.
 *
 * Every answer here carries a strict Content-Security-Policy: scripts and styles only from this
 * origin (the build emits no inline script or style; uPlot sizes its elements through the CSSOM,
 * which CSP does not govern), requests only to this origin, no framing.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/dashboard/dist, from src/http/routes or dist/http/routes of packages/server. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../../dashboard/dist', import.meta.url));

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The paths the dashboard routes in the browser; each answers index.html. */
export const DASHBOARD_PATHS = ['/', '/tasks', '/tasks/*', '/types', '/types/*', '/keys', '/webhooks'] as const;

export interface DashboardOptions {
  /** The built dashboard (index.html, assets/); default packages/dashboard/dist. */
  root?: string;
}

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const root = opts.root ?? DEFAULT_DASHBOARD_DIR;

  app.addHook('onRequest', async (_request, reply) => {
    reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin');
  });

  // Read once it exists: a server started before the build serves the page as soon as it is built.
  let index: string | null = null;
  const sendIndex = async (reply: FastifyReply) => {
    index ??= await readFile(join(root, 'index.html'), 'utf8').catch(() => null);
    reply.header('cache-control', 'no-cache');
    if (index === null) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build` (or `npm ci`), then reload.\n');
    }
    return reply.type('text/html; charset=utf-8').send(index);
  };
  for (const path of DASHBOARD_PATHS) {
    app.get(path, { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  }

  // Vite names every asset by its content hash: a changed file is a new URL, so cache forever.
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    immutable: true,
    maxAge: '365d',
    schemaHide: true,
  });
};
