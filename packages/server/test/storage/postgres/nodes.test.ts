/**
 * What only a shared server shows: several stores (nodes) on one schema, changes crossing nodes,
 * claims, limits, dependencies and idempotency keys holding across them, event ids in commit order.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import { createServices } from '../../../src/service/services.js';
import type { TaskChange } from '../../../src/storage/task-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A, T0, idSequence, makeTask, eventOf } from '../../helpers/task-factory.js';

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

pgSuite('nodes', (fresh) => {
  describe('postgres: several nodes on one schema', () => {
    it("a change committed through store A reaches store B's subscribers, and A's own once", async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      // A store of another schema on the same server hears nothing of this one.
      const other = await fresh();
      try {
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(a.store);
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
        await insertOrgs(store);
        const t = makeTask({ id: idSequence()(), createdAt: T0 });
        await store.write((tx) => tx.insertTasks([t]));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const ev = eventOf(t, 'task.updated');
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
});
