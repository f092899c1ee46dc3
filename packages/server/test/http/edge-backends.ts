/**
 * The real app (buildApp, never listening) over each backend a rule of the edge must hold on: SQLite
 * in a temp folder always, PostgreSQL (a fresh schema, kept when a test fails) when TASKLANE_TEST_PG_URL
 * is set. Call `edgeBackends` at the top of a test file: it registers the PostgreSQL schemas' cleanup.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/domain/clock.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { createServices, type Services } from '../../src/service/services.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';

export interface EdgeApp {
  app: FastifyInstance;
  store: TaskStore;
  /** The services the app runs on, for tests that call a use case in-process. */
  services: Services;
  /** The root key of org `default` (every scope). */
  key: string;
  /** One request with the root key; an object body is sent as JSON, a string or Buffer as it is. */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  cleanup(): Promise<void>;
}

export interface EdgeBackend {
  name: 'sqlite' | 'postgres';
  open(opts?: Partial<Omit<AppOptions, 'services'>>): Promise<EdgeApp>;
}

export function edgeBackends(file: string): EdgeBackend[] {
  const sqlite: EdgeBackend = {
    name: 'sqlite',
    async open(opts) {
      const dir = mkdtempSync(join(tmpdir(), 'tasklane-edge-'));
      const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock: systemClock });
      return over(store, opts, () => rmSync(dir, { recursive: true, force: true }));
    },
  };
  if (pgUrl() === null) return [sqlite];
  const pg = freshSchema(file);
  return [
    sqlite,
    {
      name: 'postgres',
      async open(opts) {
        const store = createPostgresStore({ url: pg.url, schema: pg.newSchema(), clock: systemClock });
        return over(store, opts, () => undefined);
      },
    },
  ];
}

async function over(
  store: TaskStore,
  opts: Partial<Omit<AppOptions, 'services'>> = {},
  removeFiles: () => void,
): Promise<EdgeApp> {
  await store.migrate();
  const services = createServices(store, { clock: systemClock });
  const { rootKey } = await services.auth.bootstrap();
  if (rootKey === null) throw new Error('bootstrap on an empty database must create a root key');
  const app = await buildApp({ rateLimit: 0, ...opts, services });
  await app.ready();
  return {
    app,
    store,
    services,
    key: rootKey,
    call(method, url, body, headers = {}) {
      const all: Record<string, string> = { authorization: `Bearer ${rootKey}`, ...headers };
      const req: InjectOptions = { method, url, headers: all };
      if (body !== undefined) {
        req.payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
        all['content-type'] ??= 'application/json';
      }
      return app.inject(req);
    },
    async cleanup() {
      await app.close();
      await store.close();
      removeFiles();
    },
  };
}
