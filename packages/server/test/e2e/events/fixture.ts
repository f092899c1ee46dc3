/**
 * What the event stream tests share: the backends (SQLite always, PostgreSQL when
 * TASKLANE_TEST_PG_URL is set, a fresh schema per server), a task driven through every kind of event
 * over the API, the org's history as the store has it (JSON pages from the start), and a check of
 * an event against the wire schema the SDK shares.
 */
import { TaskEventSchema } from '@tasklane/sdk/schemas';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import type { Clock } from '../../../src/domain/clock.js';
import { createPostgresStore } from '../../../src/storage/postgres/pg-store.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import type { WireTask } from '../../helpers/http-harness.js';
import { freshSchema, pgUrl } from '../../helpers/pg.js';
import { streamServer, type StreamServer, type WireEvent } from '../../helpers/sse.js';
import type { HarnessOptions } from '../../helpers/http-harness.js';

export interface Backend {
  name: 'sqlite' | 'postgres';
  store?: (clock: Clock) => TaskStore;
}

/** SQLite, and PostgreSQL when configured. Call at the top of a test file (it registers cleanup). */
export function backends(file: string): Backend[] {
  const list: Backend[] = [{ name: 'sqlite' }];
  const url = pgUrl();
  if (url !== null) {
    const schemas = freshSchema(file);
    list.push({ name: 'postgres', store: (clock) => createPostgresStore({ url, schema: schemas.newSchema(), clock }) });
  }
  return list;
}

/**
 * A server on a real port over the backend. Its feed polls once an hour: every event here must
 * come by the wake-up its commit causes, not by the poll that would hide a missing one (the poll
 * has its own test, test/e2e/multinode/event-streams.test.ts).
 */
export function serverOn(backend: Backend, opts: Omit<HarnessOptions, 'store'> = {}): Promise<StreamServer> {
  return streamServer({
    ...opts,
    events: { pollIntervalMs: 3_600_000, ...opts.events },
    ...(backend.store === undefined ? {} : { store: backend.store }),
  });
}

/** POST and expect a 2xx; the body. */
export async function post<T = unknown>(s: StreamServer, key: string, url: string, body: unknown = {}): Promise<T> {
  const res = await s.call(key, 'POST', url, body);
  if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
  return res.json<T>();
}

/**
 * One task through every kind of event: created, claimed (status_changed), a heartbeat with
 * progress (progress), two steps (step), a PATCH (updated), completed (status_changed), and, unless
 * `keep`, deleted. `key` needs tasks:write and tasks:work (an admin key).
 */
export async function everyKind(
  s: StreamServer,
  key: string,
  body: Record<string, unknown> = {},
  opts: { keep?: boolean } = {},
): Promise<WireTask> {
  const t = await s.createTask(key, { type: 'stream.kinds', ...body });
  const claimed = await post<WireTask>(s, key, `/v1/tasks/${t.id}/claim`, { workerId: 'w' });
  const leaseId = claimed.lease?.id;
  await post(s, key, `/v1/tasks/${t.id}/heartbeat`, { leaseId, progress: 0.5, progressMessage: 'half' });
  await post(s, key, `/v1/tasks/${t.id}/steps`, {
    leaseId,
    steps: [{ message: 'one' }, { message: 'two', data: { n: 2, text: 'line\nbreak' } }],
  });
  const patched = await s.call(key, 'PATCH', `/v1/tasks/${t.id}`, { title: 'renamed' });
  expect(patched.statusCode).toBe(200);
  const done = await post<WireTask>(s, key, `/v1/tasks/${t.id}/complete`, { leaseId, result: { ok: true } });
  if (opts.keep === true) return done;
  expect((await s.call(key, 'DELETE', `/v1/tasks/${t.id}`)).statusCode).toBe(204);
  return done;
}

/** The events of `path` as the store has them, through the JSON page form after `from` (the start). */
export async function history(
  s: StreamServer,
  key: string,
  path = '/v1/events',
  query = '',
  from = 0,
): Promise<WireEvent[]> {
  const out: WireEvent[] = [];
  let after = from;
  for (;;) {
    const res = await s.call(key, 'GET', `${path}?after=${after}&limit=1000${query}`, undefined, {
      accept: 'application/json',
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json<{ items: WireEvent[]; nextAfter: number; reset: unknown }>();
    expect(page.reset).toBeNull();
    out.push(...page.items);
    if (page.items.length === 0) return out;
    after = page.nextAfter;
  }
}

const ajv = addFormats.default(new Ajv.default({ strict: false, allErrors: true }));
const validEvent = ajv.compile(TaskEventSchema);

/** The event is a TaskEvent as the SDK's schema says (its data exactly right for its type). */
export function expectWireEvent(e: WireEvent): void {
  const ok = validEvent(e);
  expect(ok, `${JSON.stringify(e)}: ${ajv.errorsText(validEvent.errors)}`).toBe(true);
}

/** Strictly increasing: each id once, in order. */
export function expectIncreasing(ids: readonly number[]): void {
  for (let i = 1; i < ids.length; i++) expect(ids[i], `ids ${ids.join(',')}`).toBeGreaterThan(ids[i - 1]!);
}
