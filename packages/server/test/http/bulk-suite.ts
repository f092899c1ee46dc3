/**
 * POST /v1/tasks/bulk through the real app over any store (SQLite or PostgreSQL): by ids and by
 * filter, each task through the single action's rules and events, one failure not stopping the
 * others, paging through a filter with nextCursor, dry runs, validation and scope.
 */
import type { Task as WireTask } from '@tasklane/sdk/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/service/services.js';
import type { TaskStore } from '../../src/storage/task-store.js';

interface BulkAnswer {
  results: Array<{ taskId: string; ok: boolean; task?: WireTask; error?: { code: string; status: number } }>;
  matched: number;
  hasMore: boolean;
  nextCursor: string | null;
}

export function bulkSuite(name: string, makeStore: () => Promise<{ store: TaskStore; cleanup: () => Promise<void> }>) {
  describe(`POST /v1/tasks/bulk (${name})`, () => {
    let app: FastifyInstance;
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    let rootKey: string;
    let orgs = 0;

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
      const services = createServices(store, { clock: systemClock });
      const boot = await services.auth.bootstrap();
      if (boot.rootKey === null) throw new Error('bootstrap must create a root key');
      rootKey = boot.rootKey;
      app = await buildApp({ services, rateLimit: 0 });
      await app.ready();
    });
    afterAll(async () => {
      await app.close();
      await cleanup();
    });

    const call = (key: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
      app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });

    /** A fresh org for one test, and its admin key. */
    async function newOrg(): Promise<{ orgId: string; key: string }> {
      orgs += 1;
      const orgId = `bulk-${orgs}`;
      const res = await call(rootKey, 'POST', '/v1/orgs', { id: orgId, name: orgId });
      expect(res.statusCode).toBe(201);
      return { orgId, key: res.json<{ adminKey: { secret: string } }>().adminKey.secret };
    }

    async function create(key: string, body: Record<string, unknown>): Promise<WireTask> {
      const res = await call(key, 'POST', '/v1/tasks', body);
      expect(res.statusCode).toBe(201);
      return res.json<WireTask>();
    }

    async function failed(key: string, type: string): Promise<WireTask> {
      const t = await create(key, { type, maxRetries: 0 });
      const claim = await call(key, 'POST', `/v1/tasks/${t.id}/claim`, { workerId: 'w1' });
      expect(claim.statusCode).toBe(200);
      const leaseId = claim.json<WireTask>().lease?.id;
      const res = await call(key, 'POST', `/v1/tasks/${t.id}/fail`, {
        leaseId,
        error: { message: 'boom' },
        retryable: false,
      });
      expect(res.json<WireTask>().status).toBe('failed');
      return res.json<WireTask>();
    }

    const bulk = async (key: string, body: unknown, status = 200): Promise<BulkAnswer> => {
      const res = await call(key, 'POST', '/v1/tasks/bulk', body);
      expect(res.statusCode, res.body).toBe(status);
      return res.json<BulkAnswer>();
    };

    it('cancels the tasks named, answering each in order; a task that cannot be canceled does not stop the others', async () => {
      const { orgId, key } = await newOrg();
      const a = await create(key, { type: 'bulk.a' });
      const done = await failed(key, 'bulk.a');
      const b = await create(key, { type: 'bulk.a' });
      const out = await bulk(key, { action: 'cancel', ids: [a.id, done.id, b.id], reason: 'cleanup' });
      expect(out.matched).toBe(3);
      expect(out.hasMore).toBe(false);
      expect(out.results.map((r) => [r.taskId, r.ok])).toEqual([
        [a.id, true],
        [done.id, false],
        [b.id, true],
      ]);
      expect(out.results[0]?.task?.status).toBe('canceled');
      expect(out.results[1]?.error).toMatchObject({ code: 'INVALID_TRANSITION', status: 409 });
      // The same rules as the single action: a reason becomes a step; each change is one event.
      expect(out.results[2]?.task?.steps.at(-1)?.message).toBe('cancel: cleanup');
      const events = await store.read((tx) => tx.listEvents(orgId, 0, 1000));
      const canceled = events.filter(
        (e) => e.type === 'task.status_changed' && (e.data as { to?: string }).to === 'canceled',
      );
      expect(canceled.map((e) => e.taskId).sort()).toEqual([a.id, b.id].sort());
    });

    it("answers NOT_FOUND for an id the org does not have (another org's included), and goes on", async () => {
      const one = await newOrg();
      const other = await newOrg();
      const foreign = await create(other.key, { type: 'bulk.x' });
      const mine = await create(one.key, { type: 'bulk.x' });
      const out = await bulk(one.key, { action: 'archive', ids: [foreign.id, mine.id, 'NOPE-1'] });
      expect(out.results.map((r) => r.error?.code ?? 'ok')).toEqual(['NOT_FOUND', 'ok', 'NOT_FOUND']);
      const theirs = await call(other.key, 'GET', `/v1/tasks/${foreign.id}`);
      expect(theirs.json<WireTask>().archivedAt).toBeNull();
    });

    it('with a filter takes the newest matching tasks up to limit, and nextCursor goes on with the rest', async () => {
      const { key } = await newOrg();
      const a: WireTask[] = [];
      for (let i = 0; i < 5; i++) a.push(await create(key, { type: 'bulk.f', labels: ['nightly'] }));
      await create(key, { type: 'bulk.g', labels: ['nightly'] });
      const dry = await bulk(key, { action: 'archive', filter: { type: 'bulk.f' }, dryRun: true });
      expect(dry).toMatchObject({ results: [], matched: 5, hasMore: false });

      const first = await bulk(key, { action: 'archive', filter: { type: 'bulk.f', label: 'nightly' }, limit: 3 });
      expect(first.matched).toBe(3);
      expect(first.hasMore).toBe(true);
      expect(first.results.map((r) => r.taskId)).toEqual([a[4]!.id, a[3]!.id, a[2]!.id]);
      expect(first.results.every((r) => r.ok && r.task?.archivedAt !== null)).toBe(true);
      const rest = await bulk(key, {
        action: 'archive',
        filter: { type: 'bulk.f', label: 'nightly' },
        limit: 3,
        cursor: first.nextCursor,
      });
      expect(rest).toMatchObject({ matched: 2, hasMore: false, nextCursor: null });
      const left = await call(key, 'GET', '/v1/tasks?label=nightly');
      expect(left.json<{ items: WireTask[] }>().items.map((t) => t.type)).toEqual(['bulk.g']);
    });

    it('retries the failed tasks that match a status filter', async () => {
      const { key } = await newOrg();
      const f1 = await failed(key, 'bulk.r');
      const f2 = await failed(key, 'bulk.r');
      await create(key, { type: 'bulk.r' });
      const out = await bulk(key, { action: 'retry', filter: { status: ['failed'], type: 'bulk.r' } });
      expect(out.results.map((r) => [r.taskId, r.task?.status])).toEqual([
        [f2.id, 'queued'],
        [f1.id, 'queued'],
      ]);
    });

    it('refuses a body with both ids and filter, with neither, or with more than 1,000 ids (400)', async () => {
      const { key } = await newOrg();
      const t = await create(key, { type: 'bulk.v' });
      const ids = Array.from({ length: 1001 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
      for (const body of [
        { action: 'cancel', ids: [t.id], filter: {} },
        { action: 'cancel' },
        { action: 'cancel', ids },
        { action: 'cancel', ids: [t.id], limit: 5 },
        { action: 'explode', ids: [t.id] },
        { action: 'cancel', filter: { colour: 'red' } },
        { action: 'cancel', filter: {}, limit: 1001 },
      ]) {
        const res = await call(key, 'POST', '/v1/tasks/bulk', body);
        expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      }
      expect((await call(key, 'GET', `/v1/tasks/${t.id}`)).json<WireTask>().status).toBe('queued');
      // The two shapes of body are the schema's: the answer names what is missing.
      const neither = (await call(key, 'POST', '/v1/tasks/bulk', { action: 'cancel' })).json<{ detail: string }>();
      expect(neither.detail).toContain("must have required property 'ids'");
      expect(neither.detail).toContain("must have required property 'filter'");
    });

    it('needs tasks:write: a read-only key gets 403 and nothing changes', async () => {
      const { key } = await newOrg();
      const t = await create(key, { type: 'bulk.s' });
      const ro = await call(key, 'POST', '/v1/keys', { name: 'ro', scopes: ['tasks:read'] });
      const res = await call(ro.json<{ secret: string }>().secret, 'POST', '/v1/tasks/bulk', {
        action: 'cancel',
        ids: [t.id],
      });
      expect(res.statusCode).toBe(403);
      expect((await call(key, 'GET', `/v1/tasks/${t.id}`)).json<WireTask>().status).toBe('queued');
    });
  });
}
