/**
 * One app per backend for the OpenAPI fuzz test, and the tasks its requests act on. Requests name
 * them by reference (`~~queued.id~~`, `~~fresh.working.lease~~`), resolved on each backend when the
 * request is sent, so the same request list runs on SQLite and PostgreSQL though ids differ.
 * `fresh.*` takes a task no earlier request touched (one per reference name per request), so a
 * request that completes or deletes its task leaves the next one a task to act on.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/service/services.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import type { PgStoreFactory } from './pg.js';

export type BackendName = 'sqlite' | 'postgres';

export interface FuzzBackend {
  name: BackendName;
  app: FastifyInstance;
  /** The root key of org `default` (root + admin: every route is open to it). */
  key: string;
  /** Replace every `~~ref~~` in `text`; `local` holds this request's fresh tasks. */
  resolve(text: string, local: Map<string, Record<string, string>>): Promise<string>;
  cleanup(): Promise<void>;
}

/** A reference in a request: `~~name.field~~`; the characters survive encodeURIComponent and JSON. */
export const ref = (name: string): string => `~~${name}~~`;
const REF = /~~([a-z]+)\.([a-z]+)(?:\.([a-z]+))?~~/g;

/** The type of the tasks valid claims take, and the list of the fixture tasks. */
export const CLAIMABLE_TYPE = 'fuzz.claimable';
export const LIST_ID = 'fuzz-list';
/** Tasks that POST /v1/tasks/bulk may act on by filter, and nothing else touches. */
export const BULK_TYPE = 'fuzz.bulk';
const POOL_CHUNK = 100;

type Inject = (method: InjectOptions['method'], url: string, body?: unknown) => Promise<LightMyRequestResponse>;

export async function sqliteBackend(): Promise<FuzzBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-fuzz-'));
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock });
  await store.migrate();
  return backendOn('sqlite', store, clock, async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export async function postgresBackend(fresh: PgStoreFactory): Promise<FuzzBackend> {
  const { store, clock, cleanup } = await fresh();
  return backendOn('postgres', store, clock, cleanup);
}

/** A seeded uniform [0, 1) (retry jitter), so both backends draw the same delays. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function backendOn(
  name: BackendName,
  store: TaskStore,
  clock: ManualClock,
  closeStore: () => Promise<void>,
): Promise<FuzzBackend> {
  const services = createServices(store, { clock, random: seededRandom(42) });
  const { rootKey } = await services.auth.bootstrap();
  if (rootKey === null) throw new Error('bootstrap on an empty database must create a root key');
  const app = await buildApp({ services, rateLimit: 0 });
  await app.ready();

  const inject: Inject = async (method, url, body) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (res.statusCode >= 300) throw new Error(`fuzz fixture ${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  const world = await makeWorld(inject);
  return {
    name,
    app,
    key: rootKey,
    resolve: (text, local) => resolveRefs(text, world, local),
    async cleanup() {
      await app.close();
      await closeStore();
    },
  };
}

interface World {
  shared: Record<string, Record<string, string>>;
  take(kind: string): Promise<Record<string, string>>;
}

interface WireTask {
  id: string;
  lease: { id: string } | null;
}

/** The shared tasks (one in each status the routes care about), a project, and pools of fresh ones. */
async function makeWorld(inject: Inject): Promise<World> {
  const create = async (body: Record<string, unknown>): Promise<WireTask> =>
    (await inject('POST', '/v1/tasks', body)).json<WireTask>();
  const batch = async (n: number, type: string): Promise<WireTask[]> =>
    (
      await inject('POST', '/v1/tasks/batch', {
        tasks: Array.from({ length: n }, () => ({ type, listId: LIST_ID })),
      })
    ).json<{ tasks: WireTask[] }>().tasks;
  const claim = async (type: string, limit: number): Promise<WireTask[]> =>
    (await inject('POST', '/v1/tasks/claim', { types: [type], workerId: 'fuzz-worker', limit })).json<{
      tasks: WireTask[];
    }>().tasks;
  const leased = (t: WireTask) => ({ id: t.id, lease: t.lease?.id ?? '' });

  const project = (await inject('POST', '/v1/projects', { key: 'FUZZ', name: 'Fuzz' })).json<{ id: string }>();
  const queued = await create({ type: 'fuzz.shared', title: 'queued', listId: LIST_ID, projectId: project.id });
  const backlog = await create({ type: 'fuzz.shared', start: false, listId: LIST_ID });
  await create({ type: 'fuzz.running' });
  const [running] = await claim('fuzz.running', 1);
  await create({ type: 'fuzz.done' });
  const [done] = await claim('fuzz.done', 1);
  if (running === undefined || done === undefined) throw new Error('fuzz fixture: a claim found no task');
  await inject('POST', `/v1/tasks/${done.id}/complete`, { leaseId: done.lease?.id, result: { ok: true } });
  const canceled = await create({ type: 'fuzz.shared' });
  await inject('POST', `/v1/tasks/${canceled.id}/cancel`, {});
  await batch(50, CLAIMABLE_TYPE);
  await batch(20, BULK_TYPE);

  const pools = new Map<string, Array<Record<string, string>>>();
  let chunk = 0;
  const refill: Record<string, () => Promise<Array<Record<string, string>>>> = {
    queued: async () => (await batch(POOL_CHUNK, 'fuzz.pool.queued')).map((t) => ({ id: t.id })),
    working: async () => {
      const type = `fuzz.pool.w${chunk++}`;
      await batch(POOL_CHUNK, type);
      return (await claim(type, POOL_CHUNK)).map(leased);
    },
    canceled: async () => {
      const [t] = await batch(1, 'fuzz.pool.canceled');
      if (t === undefined) throw new Error('fuzz fixture: empty batch');
      await inject('POST', `/v1/tasks/${t.id}/cancel`, {});
      return [{ id: t.id }];
    },
    key: async () => {
      const k = (await inject('POST', '/v1/keys', { name: 'fuzz', scopes: ['tasks:read'] })).json<{ id: string }>();
      return [{ id: k.id }];
    },
  };

  return {
    shared: {
      queued: { id: queued.id },
      backlog: { id: backlog.id },
      running: leased(running),
      completed: { id: done.id },
      canceled: { id: canceled.id },
      project: { id: project.id, key: 'FUZZ' },
    },
    async take(kind) {
      let pool = pools.get(kind);
      if (pool === undefined || pool.length === 0) {
        const make = refill[kind];
        if (make === undefined) throw new Error(`fuzz fixture: no pool '${kind}'`);
        pool = await make();
        pools.set(kind, pool);
      }
      const next = pool.shift();
      if (next === undefined) throw new Error(`fuzz fixture: pool '${kind}' is empty`);
      return next;
    },
  };
}

async function resolveRefs(text: string, world: World, local: Map<string, Record<string, string>>): Promise<string> {
  // First take every fresh task the text names (in order of appearance), then substitute.
  for (const m of text.matchAll(REF)) {
    const [, scope, kind] = m;
    if (scope === 'fresh' && kind !== undefined && !local.has(kind)) local.set(kind, await world.take(kind));
  }
  return text.replace(REF, (whole, scope: string, a: string, b: string | undefined) => {
    const entity = scope === 'fresh' ? local.get(a) : world.shared[scope];
    const value = scope === 'fresh' ? entity?.[b ?? ''] : entity?.[a];
    if (value === undefined) throw new Error(`fuzz fixture: unknown reference ${whole}`);
    return value;
  });
}
