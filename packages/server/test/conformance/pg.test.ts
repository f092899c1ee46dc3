/**
 * The PostgreSQL adapter: the conformance suites (each test on a schema of its own), then what only
 * a shared server shows: nodes migrating at once, changes crossing nodes, claims staying exclusive
 * across nodes, and a database that is not there. Runs when TASKLANE_TEST_PG_URL names a server
 * (e.g. postgres://postgres@127.0.0.1:5432/postgres); skipped, loudly, otherwise.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createServices } from '../../src/service/services.js';
import { DatabaseTooNewError } from '../../src/storage/migrations.js';
import { postgresOptions } from '../../src/storage/open-store.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import { sqlLiteral } from '../../src/storage/postgres/rows.js';
import type { TaskChange, TaskStore } from '../../src/storage/task-store.js';
import { freshSchema, pgUrl, type PgStoreFactory } from '../helpers/pg.js';
import { ORG_A, ORG_B, T0, idSequence, makeTask } from '../helpers/task-factory.js';
import { recordCacheCoherenceSuite } from './record-cache-coherence.js';
import { storeConformanceSuite } from './store-conformance.js';
import { workerConformanceSuite } from './worker-conformance.js';

const SKIPPED = 'PostgreSQL tests skipped: set TASKLANE_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

if (pgUrl() === null) {
  console.warn(SKIPPED);
  describe.skip(SKIPPED, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const fresh = freshSchema('conformance');
  storeConformanceSuite('postgres', () => fresh());
  workerConformanceSuite('postgres', () => fresh());
  recordCacheCoherenceSuite('postgres, two stores on one schema', async () => {
    const a = await fresh();
    const b = await fresh({ schema: a.schema });
    return {
      a: a.store,
      b: b.store,
      cleanup: async () => {
        await b.cleanup();
        await a.cleanup();
      },
    };
  });
  nodesSuite(fresh);
}

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const orgs = (store: TaskStore) =>
  store.write(async (tx) => {
    await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
    await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 });
  });

function nodesSuite(fresh: PgStoreFactory): void {
  describe('postgres: several nodes on one schema', () => {
    it('ten stores migrating one fresh schema at once: every one succeeds, each migration applied once', async () => {
      const schema = fresh.newSchema();
      const stores = Array.from({ length: 10 }, () => createPostgresStore({ url: fresh.url, schema, poolSize: 2 }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const applied = await fresh.query<{ version: number; n: string }>(
          `SELECT version, count(*) AS n FROM ${schema}.schema_migrations GROUP BY version ORDER BY version`,
        );
        expect(applied.map((r) => [r.version, Number(r.n)])).toEqual([
          [1, 1],
          [2, 1],
          [3, 1],
          [4, 1],
        ]);
        // And the schema works from any of them.
        await orgs(stores[3] as TaskStore);
        expect(await (stores[7] as TaskStore).read((tx) => tx.countOrgs())).toBe(2);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('a schema newer than the code refuses to start (DatabaseTooNewError)', async () => {
      const { store, schema, cleanup } = await fresh();
      try {
        await fresh.query(
          `INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`,
        );
        await expect(store.migrate()).rejects.toBeInstanceOf(DatabaseTooNewError);
      } finally {
        await cleanup();
      }
    });

    it("a change committed through store A reaches store B's subscribers, and A's own once", async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      // A store of another schema on the same server hears nothing of this one.
      const other = await fresh();
      try {
        await orgs(a.store);
        const heardByA: TaskChange[] = [];
        const heardByB: TaskChange[] = [];
        const heardByOther: TaskChange[] = [];
        a.store.subscribe((c) => heardByA.push(c));
        b.store.subscribe((c) => heardByB.push(c));
        other.store.subscribe((c) => heardByOther.push(c));
        const nextId = idSequence();
        // B's LISTEN connection opens in the background: write until B hears (a lost notification
        // only delays, by contract), at most a few times.
        const sent: string[] = [];
        await until(
          async () => {
            const t = makeTask({ id: nextId(), createdAt: T0 });
            sent.push(t.id);
            await a.store.write((tx) => tx.insertTasks([t]));
            await new Promise((resolve) => setTimeout(resolve, 50));
            return heardByB.length > 0;
          },
          5_000,
          "B to hear A's change",
        );
        const first = heardByB[0];
        expect(sent).toContain(first?.taskId);
        expect(first).toMatchObject({ orgId: ORG_A, type: 'email.send', version: 1, status: 'queued', runAt: null });

        // One more change through B: A hears it from the database, after any echo of its own.
        const fromB = makeTask({ id: nextId(), createdAt: T0, status: 'blocked' });
        await b.store.write((tx) => tx.insertTasks([fromB]));
        await until(() => heardByA.some((c) => c.taskId === fromB.id), 5_000, "A to hear B's change");
        // A heard each of its own writes once (at commit), never again through the database.
        expect(heardByA.filter((c) => c.taskId !== fromB.id).map((c) => c.taskId)).toEqual(sent);
        expect(heardByOther).toEqual([]);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup(), other.cleanup()]);
      }
    });

    it('the change feed comes back after its connection is killed', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      try {
        await orgs(a.store);
        const heard = new Set<string>();
        b.store.subscribe((c) => heard.add(c.taskId));
        const nextId = idSequence();
        const hears = async (label: string) => {
          await until(
            async () => {
              const t = makeTask({ id: nextId(), createdAt: T0 });
              await a.store.write((tx) => tx.insertTasks([t]));
              await new Promise((resolve) => setTimeout(resolve, 50));
              return heard.has(t.id);
            },
            8_000,
            label,
          );
        };
        await hears('B to hear A');
        const killed = await fresh.query<{ ok: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
          [`tasklane-listen/${a.schema}`],
        );
        expect(killed.length).toBeGreaterThan(0);
        await hears('B to hear A again after its LISTEN connection was killed');
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('20 concurrent claims through two stores never hand out one task twice', async () => {
      const a = await fresh({ poolSize: 10 });
      const b = await fresh({ schema: a.schema, migrate: false, clock: a.clock, poolSize: 10 });
      try {
        await orgs(a.store);
        const nextId = idSequence();
        const tasks = Array.from({ length: 30 }, () => makeTask({ id: nextId(), createdAt: T0, queuedAt: T0 }));
        await a.store.write((tx) => tx.insertTasks(tasks));
        const nodes = [a, b].map((n) => createServices(n.store, { clock: a.clock }));
        const claims = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (nodes[i % 2] ?? nodes[0])!.workers.claim(ORG_A, {
              types: ['email.send'],
              workerId: `w${i}`,
              limit: 2,
              waitMs: 0,
            }),
          ),
        );
        const claimed = claims.flat().map((v) => v.task.id);
        expect(new Set(claimed).size).toBe(claimed.length);
        // Claims of one type are serialized (lockType), so all 30 went, none twice.
        expect(claimed.sort()).toEqual(tasks.map((t) => t.id).sort());
        const stored = await a.store.read((tx) => tx.getTasks(ORG_A, claimed));
        expect(stored.every((t) => t.status === 'in_progress' && t.attempt === 1)).toBe(true);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it("a type's concurrency limit holds across nodes", async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false, clock: a.clock });
      try {
        await orgs(a.store);
        const nextId = idSequence();
        const tasks = Array.from({ length: 20 }, () => makeTask({ id: nextId(), createdAt: T0, queuedAt: T0 }));
        await a.store.write(async (tx) => {
          await tx.insertTasks(tasks);
          await tx.putTypeConfig({
            orgId: ORG_A,
            type: 'email.send',
            concurrency: 7,
            rateLimit: null,
            defaults: {},
            updatedAt: T0,
          });
        });
        const nodes = [a, b].map((n) => createServices(n.store, { clock: a.clock }));
        const claims = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (nodes[i % 2] ?? nodes[0])!.workers.claim(ORG_A, {
              types: ['email.send'],
              workerId: `w${i}`,
              limit: 3,
              waitMs: 0,
            }),
          ),
        );
        expect(claims.flat()).toHaveLength(7);
        expect(await a.store.write((tx) => tx.countInProgress(ORG_A, 'email.send'))).toBe(7);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('a task created with a dependency that completes at the same moment is never left blocked', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false, clock: a.clock });
      try {
        await orgs(a.store);
        const [na, nb] = [a, b].map((n) => createServices(n.store, { clock: a.clock }));
        for (let round = 0; round < 10; round++) {
          const dep = (await na!.tasks.create({ orgId: ORG_A, keyName: 'k' }, { type: 'job' })).view.task;
          const [held] = await na!.workers.claim(ORG_A, { types: ['job'], workerId: 'w', limit: 1, waitMs: 0 });
          if (held?.task.lease == null) throw new Error('expected the dependency claimed');
          const [, created] = await Promise.all([
            na!.workers.complete(ORG_A, dep.id, { leaseId: held.task.lease.id }),
            nb!.tasks.create({ orgId: ORG_A, keyName: 'k' }, { type: 'next', dependsOn: [dep.id] }),
          ]);
          const now = await a.store.read((tx) => tx.getTask(ORG_A, created.view.task.id));
          expect(now?.status).toBe('queued');
        }
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('two dependencies completing at once on two nodes: both commit, the dependent is queued', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false, clock: a.clock });
      try {
        await orgs(a.store);
        const [na, nb] = [a, b].map((n) => createServices(n.store, { clock: a.clock }));
        const caller = { orgId: ORG_A, keyName: 'k' };
        for (let round = 0; round < 10; round++) {
          const first = (await na!.tasks.create(caller, { type: 'dep' })).view.task;
          const second = (await na!.tasks.create(caller, { type: 'dep' })).view.task;
          const last = (await na!.tasks.create(caller, { type: 'last', dependsOn: [first.id, second.id] })).view.task;
          const held = await na!.workers.claim(ORG_A, { types: ['dep'], workerId: 'w', limit: 2, waitMs: 0 });
          const leaseOf = (id: string) => held.find((v) => v.task.id === id)?.task.lease?.id ?? '';
          await Promise.all([
            na!.workers.complete(ORG_A, first.id, { leaseId: leaseOf(first.id) }),
            nb!.workers.complete(ORG_A, second.id, { leaseId: leaseOf(second.id) }),
          ]);
          const now = await a.store.read((tx) => tx.getTask(ORG_A, last.id));
          expect(now).toMatchObject({ status: 'queued', blockedBy: [] });
        }
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('two requests with one Idempotency-Key on two nodes create once', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false, clock: a.clock });
      try {
        await orgs(a.store);
        const [na, nb] = [a, b].map((n) => createServices(n.store, { clock: a.clock }));
        for (let round = 0; round < 5; round++) {
          const key = `idem-${round}`;
          const results = await Promise.all(
            [na, nb, na, nb].map((n) => n!.tasks.create({ orgId: ORG_A, keyName: 'k' }, { type: 'job' }, key)),
          );
          expect(new Set(results.map((r) => r.view.task.id)).size).toBe(1);
          expect(results.filter((r) => r.created)).toHaveLength(1);
        }
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('event ids per org follow commit order, so a reader resuming after an id misses nothing', async () => {
      const { store, cleanup } = await fresh();
      try {
        await orgs(store);
        const t = makeTask({ id: idSequence()(), createdAt: T0 });
        await store.write((tx) => tx.insertTasks([t]));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const ev = { orgId: ORG_A, taskId: t.id, type: 'task.updated' as const, data: null };
        // A unit that appended first but commits last.
        const slow = store.write(async (tx) => {
          await tx.appendEvents([ev]);
          await gate;
        });
        await store.write((tx) => tx.appendEvents([ev]));
        const seen = await store.read((tx) => tx.listEvents(ORG_A, 0, 100));
        release();
        await slow;
        const after = await store.read((tx) => tx.listEvents(ORG_A, seen.at(-1)?.id ?? 0, 100));
        expect(seen).toHaveLength(1);
        expect(after).toHaveLength(1);
        expect(after[0]?.id).toBeGreaterThan(seen[0]?.id ?? Infinity);
      } finally {
        await cleanup();
      }
    });
  });

  describe('postgres: a database that is not there', () => {
    it('answers STORAGE_UNAVAILABLE within 5 s (closed port)', async () => {
      const store = createPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/postgres', schema: 'tl_nowhere' });
      const started = Date.now();
      try {
        const outcomes = await Promise.allSettled([
          store.ping(),
          store.migrate(),
          store.read((tx) => tx.countOrgs()),
          store.write((tx) => tx.countOrgs()),
        ]);
        for (const o of outcomes) {
          expect(o.status).toBe('rejected');
          expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
        }
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await store.close();
      }
    });

    it('a statement past statementTimeoutMs answers STORAGE_UNAVAILABLE, and the store goes on', async () => {
      const { store, cleanup, schema } = await fresh({ statementTimeoutMs: 200 });
      try {
        const started = Date.now();
        // Hold the type lock in one unit; another waiting for it runs into the statement timeout.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = store.write(async (tx) => {
          await tx.lockType(ORG_A, 'email.send');
          locked();
          await gate;
        });
        await isLocked;
        await expect(store.write((tx) => tx.lockType(ORG_A, 'email.send'))).rejects.toMatchObject({
          code: 'STORAGE_UNAVAILABLE',
        });
        expect(Date.now() - started).toBeLessThan(5_000);
        release();
        await holder;
        await expect(store.write((tx) => tx.lockType(ORG_A, 'email.send'))).resolves.toBeNull();
        expect(schema).toMatch(/^tl_/);
      } finally {
        await cleanup();
      }
    });

    it('a unit whose connection is killed answers STORAGE_UNAVAILABLE; the next unit works', async () => {
      const { store, cleanup, schema } = await fresh();
      try {
        await orgs(store);
        const killed = store.write(async (tx) => {
          await fresh.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'",
            [`tasklane/${schema}`],
          );
          return tx.countOrgs();
        });
        await expect(killed).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
        expect(await store.read((tx) => tx.countOrgs())).toBe(2);
      } finally {
        await cleanup();
      }
    });
  });

  describe('postgres: configuration', () => {
    it('tx.now is the database clock when no clock is given', async () => {
      const schema = fresh.newSchema();
      const store = createPostgresStore({ url: fresh.url, schema });
      try {
        await store.migrate();
        const before = Date.now();
        const [r, w] = [await store.read(async (tx) => tx.now), await store.write(async (tx) => tx.now)];
        const after = Date.now();
        for (const now of [r, w]) {
          expect(Number.isInteger(now)).toBe(true);
          expect(now).toBeGreaterThanOrEqual(before - 1_000);
          expect(now).toBeLessThanOrEqual(after + 1_000);
        }
        expect(store.capabilities).toEqual({ backend: 'postgres', multiNode: true });
      } finally {
        await store.close();
      }
    });

    it('database URLs: ?schema= and ?pool= are read and left out of the driver URL', () => {
      expect(postgresOptions('postgres://u:p%40ss@db:5432/app?schema=tl_x&pool=3&sslmode=disable')).toEqual({
        url: 'postgres://u:p%40ss@db:5432/app?sslmode=disable',
        schema: 'tl_x',
        poolSize: 3,
      });
      expect(postgresOptions('postgresql://db/app')).toEqual({ url: 'postgresql://db/app' });
      expect(() => postgresOptions('postgres://db/app?pool=0')).toThrow(/pool/);
      expect(() => createPostgresStore({ url: 'postgres://db/app', schema: 'Bad-Name' })).toThrow(/schema/);
    });

    it('updateTask with the record as read writes the changed columns; the task reads back whole', async () => {
      const { store, cleanup } = await fresh();
      try {
        await orgs(store);
        const t = makeTask({ id: idSequence()(), input: { prompt: 'x'.repeat(10_000) }, metadata: { a: 1 } });
        await store.write((tx) => tx.insertTasks([t]));
        const v2 = { ...t, version: 2, status: 'in_progress' as const, progress: 0.5, metadata: { a: 2 } };
        expect(await store.write((tx) => tx.updateTask(v2, t))).toBe(true);
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(v2);
        // A stale record as read changes nothing.
        expect(await store.write((tx) => tx.updateTask({ ...t, version: 2, title: 'stale' }, t))).toBe(false);
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(v2);
      } finally {
        await cleanup();
      }
    });

    it('rows sent as JSON keep SQL NULL and JSON null apart: a missing error is NULL, a null result is JSON', async () => {
      const { store, schema, cleanup } = await fresh();
      try {
        await orgs(store);
        const next = idSequence();
        const failed = makeTask({ id: next(), error: { code: 'E', message: 'it "broke" \\ here' }, result: null });
        const clean = makeTask({ id: next(), error: null, result: { ok: true } });
        await store.write((tx) => tx.insertTasks([failed, clean]));
        const stored = () =>
          fresh.query<{ id: string; error_is_null: boolean; result: string }>(
            `SELECT id, error IS NULL AS error_is_null, result::text AS result FROM ${schema}.tasks ORDER BY id`,
          );
        expect(await stored()).toEqual([
          { id: failed.id, error_is_null: false, result: 'null' },
          { id: clean.id, error_is_null: true, result: '{"ok": true}' },
        ]);
        // updateTasks (the claim's and the reports' path) clears one error and sets the other.
        await store.write((tx) =>
          tx.updateTasks([
            { task: { ...failed, version: failed.version + 1, error: null, result: { ok: 1 } }, previous: failed },
            {
              task: { ...clean, version: clean.version + 1, error: { code: 'X', message: 'x' }, result: null },
              previous: clean,
            },
          ]),
        );
        expect(await stored()).toEqual([
          { id: failed.id, error_is_null: true, result: '{"ok": 1}' },
          { id: clean.id, error_is_null: false, result: 'null' },
        ]);
      } finally {
        await cleanup();
      }
    });

    it('sqlLiteral: text reads back as itself whatever standard_conforming_strings says; NUL is refused', async () => {
      const texts = [
        'plain',
        "it's",
        'back\\slash',
        "both \\' and ''",
        "E'x'",
        '$1 $$ $q$',
        'line\nbreak \u2028 ünï 🚀',
        '',
      ];
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        for (const setting of ['on', 'off']) {
          await client.query(`SET standard_conforming_strings = ${setting}`);
          const { rows } = await client.query<{ t: string }>(
            texts.map((t, n) => `SELECT ${n} AS n, ${sqlLiteral(t)} AS t`).join(' UNION ALL ') + ' ORDER BY n',
          );
          expect(rows.map((r) => r.t)).toEqual(texts);
        }
      } finally {
        await client.end();
      }
      expect(() => sqlLiteral('a\u0000b')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    });

    it('events of an org whose id needs escaping are written with the COMMIT and listed back', async () => {
      const { store, cleanup } = await fresh();
      try {
        const orgId = "o'rg\\x";
        const t = makeTask({ id: idSequence()(), orgId });
        await store.write(async (tx) => {
          await tx.insertOrg({ id: orgId, name: 'odd', createdAt: T0 });
          await tx.insertTasks([t]);
          await tx.appendEvents([{ orgId, taskId: t.id, type: 'task.created', data: { note: 'it\'s \\ "x"' } }]);
        });
        const events = await store.read((tx) => tx.listEvents(orgId, 0, 10));
        expect(events.map((e) => [e.orgId, e.taskId, e.data])).toEqual([[orgId, t.id, { note: 'it\'s \\ "x"' }]]);
      } finally {
        await cleanup();
      }
    });

    it('an event the database refuses at COMMIT rolls the whole unit back and announces nothing', async () => {
      const { store, cleanup } = await fresh();
      try {
        await orgs(store);
        const t = makeTask({ id: idSequence()() });
        await store.write((tx) => tx.insertTasks([t]));
        const changes: TaskChange[] = [];
        const stop = store.subscribe((c) => changes.push(c));
        // \u0000 survives JSON (as an escape) but not jsonb: the events statement fails inside the
        // COMMIT's query, after the update it would have committed with.
        await expect(
          store.write(async (tx) => {
            expect(await tx.updateTask({ ...t, version: t.version + 1, title: 'changed' })).toBe(true);
            await tx.appendEvents([{ orgId: ORG_A, taskId: t.id, type: 'task.updated', data: { bad: 'a\u0000b' } }]);
          }),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        stop();
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(t);
        expect(await store.read((tx) => tx.listEvents(ORG_A, 0, 10))).toEqual([]);
        expect(changes).toEqual([]);
        // The store goes on.
        expect(await store.write((tx) => tx.updateTask({ ...t, version: t.version + 1, title: 'ok' }))).toBe(true);
      } finally {
        await cleanup();
      }
    });

    it('text PostgreSQL cannot store (NUL) answers VALIDATION_FAILED', async () => {
      const { store, cleanup } = await fresh();
      try {
        await orgs(store);
        await expect(
          store.write((tx) => tx.insertTasks([makeTask({ id: idSequence()(), title: 'a\u0000b' })])),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await expect(
          store.write((tx) => tx.insertTasks([makeTask({ id: idSequence()(), input: { s: 'a\u0000b' } })])),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      } finally {
        await cleanup();
      }
    });
  });
}
