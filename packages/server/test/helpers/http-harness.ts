/**
 * The HTTP test harness: the real app (buildApp, never listening) over a real SQLite file in a
 * temp folder (or the store a test passes), with the root key bootstrapped and two orgs, each with
 * an admin key:
 * - org A is `default` (the bootstrap org); its admin key is a plain `admin` key made with the root key,
 * - org B is made through `POST /v1/orgs`, as a client would.
 * Requests go through `app.inject()`. `cleanup()` closes the app and the store and removes the folder.
 */
import type { Task as WireTask } from '@tasklane/sdk/schemas';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock, type Clock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import { deliveryBody } from '../../src/http/event-frames.js';
import type { DispatcherOptions } from '../../src/service/webhook-dispatcher.js';
import type { EventServiceOptions } from '../../src/service/event-service.js';
import { createServices, type Services, type ServicesOptions } from '../../src/service/services.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Scope } from '../../src/domain/scope.js';
import type { StoreWriter, TaskStore } from '../../src/storage/task-store.js';
import type { TransitionEvent } from '../../src/domain/transitions.js';
import type { Task } from '../../src/domain/task.js';

export type { WireTask };
export type Response = LightMyRequestResponse;

export interface HarnessOptions {
  /** Requests per second per key; 0 (the default here) turns the limit off. */
  rateLimit?: number;
  /** Run the store and services on a ManualClock (2026-01-01T00:00:00Z) the test moves by hand. */
  manualClock?: boolean;
  /** The store to run on, not migrated yet (default: SQLite in the harness's temp folder). */
  store?: (clock: Clock) => TaskStore;
  /** Event streams' settings (the service's, and the app's keepalive). */
  events?: EventServiceOptions & { keepaliveMs?: number };
  /** GET /metrics: its token, and the services' metrics options (maxTypes, censusTtlMs). */
  metrics?: { token?: string } & NonNullable<ServicesOptions['metrics']>;
  /** The webhook dispatcher's settings (the body renderer is the server's). */
  webhooks?: Partial<DispatcherOptions>;
}

export interface OrgKeys {
  orgId: string;
  /** A key with the `admin` scope only. */
  admin: string;
}

/** The body every problem answer has (SPEC §9). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: Array<{ path: string; message: string }>;
}

export interface Harness {
  app: FastifyInstance;
  store: TaskStore;
  /** Every service of the node (the maintenance loop is never started: nothing sweeps behind a test's back). */
  services: Services;
  clock: Clock;
  /** The manual clock when `manualClock` was asked for, else null. */
  manualClock: ManualClock | null;
  /** The root key of org `default` (scopes root + admin). */
  rootKey: string;
  a: OrgKeys;
  b: OrgKeys;
  /** One request with `Authorization: Bearer <key>` (no header when key is null). */
  call(
    key: string | null,
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** POST /v1/tasks; fails the test unless it answers 201. */
  createTask(key: string, body?: Record<string, unknown>): Promise<WireTask>;
  /** GET /v1/tasks/{id}; fails the test unless it answers 200. */
  getTask(key: string, id: string): Promise<WireTask>;
  /** Every task the key's org lists (all pages, archived or not), newest first. */
  listAll(key: string, query?: string): Promise<WireTask[]>;
  /** A fresh org (POST /v1/orgs with the root key) and its admin key: an empty tenant for one test. */
  newOrg(): Promise<OrgKeys>;
  /** POST /v1/keys with `adminKey`; returns the new key's id and secret. */
  createKey(
    adminKey: string,
    scopes: Scope[],
    opts?: { name?: string; expiresAt?: string },
  ): Promise<{ id: string; secret: string }>;
  /**
   * Drive a task through worker events (claim, complete, fail) to reach the states the client
   * routes act on, through the service's own transition function and the domain's table (no record
   * is forged), without depending on the worker API's own rules.
   */
  drive(orgId: string, taskId: string, event: TransitionEvent): Promise<Task>;
  /** The next `write` unit of the store throws `err` (a non-catalogue error → 500). */
  failNextWrite(err: Error): void;
  cleanup(): Promise<void>;
}

export async function makeHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-http-'));
  const manualClock = opts.manualClock === true ? new ManualClock() : null;
  const clock: Clock = manualClock ?? systemClock;
  const real = opts.store?.(clock) ?? createSqliteStore({ path: join(dir, 'tasklane.db'), clock });
  await real.migrate();
  const faults = faultInjecting(real);
  const store = faults.store;
  const { keepaliveMs, ...events } = opts.events ?? {};
  const { token: metricsToken, ...metrics } = opts.metrics ?? {};
  const services = createServices(store, {
    clock,
    events,
    metrics,
    webhooks: { renderEvent: deliveryBody, ...opts.webhooks },
  });
  const { rootKey } = await services.auth.bootstrap();
  if (rootKey === null) throw new Error('bootstrap on an empty database must create a root key');
  const app = await buildApp({
    services,
    rateLimit: opts.rateLimit ?? 0,
    ...(keepaliveMs === undefined ? {} : { events: { keepaliveMs } }),
    metrics: { token: metricsToken },
  });
  await app.ready();

  const call: Harness['call'] = (key, method, url, body, headers = {}) => {
    const all: Record<string, string> = { ...headers };
    if (key !== null) all.authorization = `Bearer ${key}`;
    const req: InjectOptions = { method, url, headers: all };
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) req.payload = body;
      else req.payload = JSON.stringify(body);
      if (all['content-type'] === undefined) all['content-type'] = 'application/json';
    }
    return app.inject(req);
  };

  const expectStatus = (res: Response, status: number, what: string): void => {
    if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode}: ${res.body}`);
  };

  const createKey: Harness['createKey'] = async (adminKey, scopes, o = {}) => {
    const res = await call(adminKey, 'POST', '/v1/keys', {
      name: o.name ?? `key-${scopes.join('+')}`,
      scopes,
      ...(o.expiresAt === undefined ? {} : { expiresAt: o.expiresAt }),
    });
    expectStatus(res, 201, 'POST /v1/keys');
    const key = res.json<{ id: string; secret: string }>();
    return { id: key.id, secret: key.secret };
  };

  const a: OrgKeys = { orgId: 'default', admin: (await createKey(rootKey, ['admin'], { name: 'a-admin' })).secret };
  const orgRes = await call(rootKey, 'POST', '/v1/orgs', { id: 'org-b', name: 'Org B' });
  expectStatus(orgRes, 201, 'POST /v1/orgs');
  const b: OrgKeys = { orgId: 'org-b', admin: orgRes.json<{ adminKey: { secret: string } }>().adminKey.secret };

  let orgs = 0;
  const newOrg = async (): Promise<OrgKeys> => {
    orgs += 1;
    const orgId = `org-t${orgs}`;
    const res = await call(rootKey, 'POST', '/v1/orgs', { id: orgId, name: `Test org ${orgs}` });
    expectStatus(res, 201, 'POST /v1/orgs');
    return { orgId, admin: res.json<{ adminKey: { secret: string } }>().adminKey.secret };
  };

  return {
    app,
    store,
    newOrg,
    services,
    clock,
    manualClock,
    rootKey,
    a,
    b,
    call,
    createKey,
    async createTask(key, body = { type: 'test.run' }) {
      const res = await call(key, 'POST', '/v1/tasks', body);
      expectStatus(res, 201, 'POST /v1/tasks');
      return res.json<WireTask>();
    },
    async getTask(key, id) {
      const res = await call(key, 'GET', `/v1/tasks/${id}`);
      expectStatus(res, 200, `GET /v1/tasks/${id}`);
      return res.json<WireTask>();
    },
    async listAll(key, query = '') {
      // Archived and not, deduplicated: whether archived=true lists only archived tasks or all is not assumed.
      const out = new Map<string, WireTask>();
      for (const archived of ['false', 'true']) {
        let cursor: string | null = null;
        do {
          const q = [query, `archived=${archived}`, 'limit=200', cursor === null ? '' : `cursor=${cursor}`]
            .filter(Boolean)
            .join('&');
          const res = await call(key, 'GET', `/v1/tasks?${q}`);
          expectStatus(res, 200, 'GET /v1/tasks');
          const page = res.json<{ items: WireTask[]; nextCursor: string | null }>();
          for (const t of page.items) if (!out.has(t.id)) out.set(t.id, t);
          cursor = page.nextCursor;
        } while (cursor !== null);
      }
      return [...out.values()].sort((x, y) => (x.id < y.id ? 1 : -1));
    },
    drive(orgId, taskId, event) {
      return store.write(async (tx: StoreWriter) => {
        const task = await tx.getTaskForUpdate(orgId, taskId);
        if (task === null) throw new Error(`no task ${taskId} in ${orgId}`);
        return services.writer.transition(tx, task, event);
      });
    },
    failNextWrite: faults.failNextWrite,
    async cleanup() {
      await app.close();
      services.events.close();
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The store, passed through, except that a test may make the next write unit throw. */
function faultInjecting(inner: TaskStore): { store: TaskStore; failNextWrite: (err: Error) => void } {
  let nextWriteError: Error | null = null;
  const store: TaskStore = {
    capabilities: inner.capabilities,
    webhooks: inner.webhooks,
    migrate: () => inner.migrate(),
    read: (fn) => inner.read(fn),
    write: (fn) => {
      const err = nextWriteError;
      if (err !== null) {
        nextWriteError = null;
        return Promise.reject(err);
      }
      return inner.write(fn);
    },
    getTaskDocument: (orgId, key) => inner.getTaskDocument(orgId, key),
    findKeyByHash: (hash) => inner.findKeyByHash(hash),
    subscribe: (listener) => inner.subscribe(listener),
    onCommit: (listener) => inner.onCommit(listener),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return { store, failNextWrite: (err) => (nextWriteError = err) };
}

/** A problem body without its requestId, for comparing two answers. */
export function withoutRequestId(res: Response): Omit<Problem, 'requestId'> {
  const { requestId: _id, ...rest } = res.json<Problem>();
  return rest;
}

export function problemOf(res: Response): Problem {
  return res.json<Problem>();
}

/** A v7-shaped UUID that names no task. */
export function missingUuid(): string {
  return '01900000-0000-7000-8000-000000000000';
}

/** Wait until `check` holds (polling the condition, not the clock), or fail after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Every route the app serves, `METHOD /path` (Fastify's own table, read from printRoutes). */
export function listRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length / 4;
    const segment = match[2] ?? '';
    stack.length = depth;
    stack.push(segment);
    const methods = match[3];
    if (methods === undefined) continue;
    const path = stack.join('');
    for (const method of methods.split(',')) out.push(`${method.trim()} ${path}`);
  }
  return [...new Set(out)].sort();
}
