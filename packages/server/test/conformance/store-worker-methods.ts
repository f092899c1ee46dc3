/**
 * The TaskStore methods the worker side added (type settings, claiming, the claim log, the
 * sweeper's and reaper's queries, lists and stats), as a suite every adapter runs beside
 * store-conformance.ts. Like that suite it tests the contract's doc comments through the interface
 * only. Each test gets a fresh, migrated store with orgs ORG_A and ORG_B in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { Task } from '../../src/domain/task.js';
import type { StatusCount, TaskChange, TaskStore, TypeConfig } from '../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, idSequence, makeTask, taskInStatus } from '../helpers/task-factory.js';
import type { StoreUnderTest } from './store-conformance.js';

const ids = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id);
const sortedCounts = (rows: readonly StatusCount[]): StatusCount[] =>
  [...rows].sort((a, b) => `${a.status}/${a.type}`.localeCompare(`${b.status}/${b.type}`));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function storeWorkerMethodsSuite(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`TaskStore worker methods: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: TaskStore;
    let clock: ManualClock;
    let nextId: () => string;

    beforeEach(async () => {
      sut = await factory();
      store = sut.store;
      clock = sut.clock;
      nextId = idSequence();
      await store.write(async (tx) => {
        await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
        await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 });
      });
    });

    afterEach(async () => {
      await sut.cleanup();
    });

    const task = (overrides: Partial<Task> = {}): Task => makeTask({ id: nextId(), ...overrides });
    const inStatus = (status: Task['status'], overrides: Partial<Task> = {}): Task =>
      taskInStatus(status, { id: nextId(), ...overrides });
    const insert = (...tasks: Task[]): Promise<void> => store.write((tx) => tx.insertTasks(tasks));
    const typeConfig = (orgId: string, type: string, overrides: Partial<TypeConfig> = {}): TypeConfig => ({
      orgId,
      type,
      concurrency: null,
      rateLimit: null,
      defaults: {},
      updatedAt: T0,
      ...overrides,
    });

    describe('type settings', () => {
      it('putTypeConfig then getTypeConfig and listTypeConfigs return every field; put replaces', async () => {
        const full = typeConfig(ORG_A, 'email.send', {
          concurrency: 4,
          rateLimit: { count: 10, perMs: 60_000 },
          defaults: {
            maxRetries: 7,
            retryPolicy: { strategy: 'linear', delayMs: 250 },
            leaseMs: 45_000,
            timeoutMs: 90_000,
            priority: -5,
          },
          updatedAt: T0 + 5,
        });
        const bare = typeConfig(ORG_A, 'pdf.render');
        const foreign = typeConfig(ORG_B, 'email.send', { concurrency: 1 });
        await store.write(async (tx) => {
          for (const c of [full, bare, foreign]) await tx.putTypeConfig(c);
        });
        await store.read(async (tx) => {
          expect(await tx.getTypeConfig(ORG_A, 'email.send')).toEqual(full);
          expect(await tx.getTypeConfig(ORG_A, 'pdf.render')).toEqual(bare);
          expect(await tx.getTypeConfig(ORG_B, 'email.send')).toEqual(foreign);
          expect(await tx.getTypeConfig(ORG_A, 'nope')).toBeNull();
          expect(await tx.getTypeConfig(ORG_B, 'pdf.render')).toBeNull();
          const listed = (await tx.listTypeConfigs(ORG_A)).sort((a, b) => a.type.localeCompare(b.type));
          expect(listed).toEqual([full, bare]);
          expect(await tx.listTypeConfigs(ORG_B)).toEqual([foreign]);
          expect(await tx.listTypeConfigs('org_missing')).toEqual([]);
        });

        const replaced = typeConfig(ORG_A, 'email.send', { concurrency: null, updatedAt: T0 + 9 });
        await store.write((tx) => tx.putTypeConfig(replaced));
        expect(await store.read((tx) => tx.getTypeConfig(ORG_A, 'email.send'))).toEqual(replaced);
        expect(await store.read((tx) => tx.listTypeConfigs(ORG_A))).toHaveLength(2);
        expect(await store.read((tx) => tx.getTypeConfig(ORG_B, 'email.send'))).toEqual(foreign);
      });

      it('lockType reads like getTypeConfig (null when the type has no settings)', async () => {
        const c = typeConfig(ORG_A, 'email.send', { concurrency: 2 });
        await store.write((tx) => tx.putTypeConfig(c));
        await store.write(async (tx) => {
          expect(await tx.lockType(ORG_A, 'email.send')).toEqual(c);
          expect(await tx.lockType(ORG_B, 'email.send')).toBeNull();
          expect(await tx.lockType(ORG_A, 'other')).toBeNull();
        });
      });

      it('lockType serializes units: a second unit does not pass it until the first ends', async () => {
        const log: string[] = [];
        const locked = deferred();
        const gate = deferred();
        const first = store.write(async (tx) => {
          await tx.lockType(ORG_A, 'email.send');
          log.push('first locked');
          locked.resolve();
          await gate.promise;
          log.push('first ends');
        });
        await locked.promise;
        const second = store.write(async (tx) => {
          await tx.lockType(ORG_A, 'email.send');
          log.push('second locked');
        });
        // Give the second unit every chance to run ahead before the first is let go.
        await new Promise((resolve) => setTimeout(resolve, 20));
        gate.resolve();
        await Promise.all([first, second]);
        expect(log).toEqual(['first locked', 'first ends', 'second locked']);
      });
    });

    describe('nested units', () => {
      it('nested: what returns joins the unit; what throws is undone (and not announced), the unit goes on', async () => {
        const [kept, undone, after] = [task(), task(), task()];
        const changes: TaskChange[] = [];
        store.subscribe((c) => changes.push(c));
        const boom = new Error('inner');
        const result = await store.write(async (tx) => {
          const inner = await tx.nested(async () => {
            await tx.insertTasks([kept]);
            await tx.appendSteps(ORG_A, kept.id, [{ time: T0, message: 'kept' }]);
            return 'inner result';
          });
          await expect(
            tx.nested(async () => {
              await tx.insertTasks([undone]);
              expect(await tx.updateTask({ ...kept, version: 2, title: 'undone' })).toBe(true);
              await tx.appendSteps(ORG_A, kept.id, [{ time: T0, message: 'undone' }]);
              await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
              await tx.appendEvents([{ orgId: ORG_A, taskId: kept.id, type: 'task.updated', data: null }]);
              expect(await tx.getTask(ORG_A, undone.id)).toEqual(undone); // visible inside
              throw boom;
            }),
          ).rejects.toBe(boom);
          // Undone at once, inside the unit.
          expect(await tx.getTask(ORG_A, undone.id)).toBeNull();
          expect(await tx.getTask(ORG_A, kept.id)).toEqual(kept);
          await tx.insertTasks([after]);
          return inner;
        });
        expect(result).toBe('inner result');
        await store.read(async (tx) => {
          expect(ids(await tx.getTasks(ORG_A, ids([kept, undone, after]))).sort()).toEqual(ids([kept, after]).sort());
          expect(await tx.getTask(ORG_A, kept.id)).toEqual(kept);
          expect(await tx.getSteps(ORG_A, kept.id)).toEqual([{ time: T0, message: 'kept' }]);
          expect(await tx.countClaims(ORG_A, 0)).toBe(0);
          expect(await tx.listEvents(ORG_A, 0, 100)).toEqual([]);
        });
        expect(changes.map((c) => [c.taskId, c.version]).sort()).toEqual(
          [
            [kept.id, 1],
            [after.id, 1],
          ].sort(),
        );
      });

      it('nested units nest; a unit that throws undoes its nested units too', async () => {
        const [outer, inner, innermost] = [task(), task(), task()];
        await store.write(async (tx) => {
          await tx.nested(async () => {
            await tx.insertTasks([outer]);
            await tx.nested(async () => {
              await tx.insertTasks([inner]);
              await tx.nested(async () => tx.insertTasks([innermost])).then(() => undefined);
            });
            // An inner failure after a committed nested unit undoes only itself.
            await tx
              .nested(async () => {
                throw new Error('x');
              })
              .catch(() => undefined);
          });
        });
        expect(await store.read((tx) => tx.getTasks(ORG_A, ids([outer, inner, innermost])))).toHaveLength(3);

        const doomed = task();
        await expect(
          store.write(async (tx) => {
            await tx.nested(() => tx.insertTasks([doomed]));
            throw new Error('outer');
          }),
        ).rejects.toThrow('outer');
        expect(await store.read((tx) => tx.getTask(ORG_A, doomed.id))).toBeNull();
      });
    });

    describe('claiming', () => {
      it('countInProgress counts in-progress tasks of one type of one org', async () => {
        await insert(
          inStatus('in_progress'),
          inStatus('in_progress'),
          inStatus('in_progress', { type: 'pdf.render' }),
          inStatus('in_progress', { orgId: ORG_B }),
          inStatus('queued'),
          inStatus('needs_review'),
          inStatus('completed'),
        );
        await store.write(async (tx) => {
          expect(await tx.countInProgress(ORG_A, 'email.send')).toBe(2);
          expect(await tx.countInProgress(ORG_A, 'pdf.render')).toBe(1);
          expect(await tx.countInProgress(ORG_B, 'email.send')).toBe(1);
          expect(await tx.countInProgress(ORG_B, 'pdf.render')).toBe(0);
        });
      });

      it('claimable: priority descending, then coalesce(runAt, queuedAt), then id', async () => {
        clock.set(T0 + 10_000);
        const low = task({ priority: -1, queuedAt: T0 });
        const high = task({ priority: 5, queuedAt: T0 + 500 });
        const late = task({ queuedAt: T0 + 300 });
        const early = task({ queuedAt: T0 + 100 });
        // Queued first, but its runAt (a backoff) puts it after `late`.
        const backoff = task({ queuedAt: T0, runAt: T0 + 400 });
        // runAt earlier than queuedAt: runAt wins.
        const scheduled = task({ queuedAt: T0 + 200, runAt: T0 + 50 });
        const tieA = task({ queuedAt: T0 + 600 });
        const tieB = task({ queuedAt: T0 + 600 });
        // Inserted in a scrambled order: the store sorts, not the insertion.
        await insert(tieB, backoff, low, late, tieA, early, high, scheduled);
        const got = await store.write((tx) => tx.claimable(ORG_A, ['email.send'], 100));
        expect(ids(got)).toEqual(ids([high, scheduled, early, late, backoff, tieA, tieB, low]));
        expect(got[0]).toEqual(high);
      });

      it('claimable over several types: one claim order across them, limit applied to the whole', async () => {
        clock.set(T0 + 10_000);
        const a1 = task({ type: 'a', priority: 1, queuedAt: T0 + 300 });
        const b1 = task({ type: 'b', priority: 1, queuedAt: T0 + 100 });
        const a2 = task({ type: 'a', queuedAt: T0 + 50 });
        const b2 = task({ type: 'b', queuedAt: T0 + 60 });
        const c1 = task({ type: 'c', priority: 2, queuedAt: T0 + 900 });
        const a3 = task({ type: 'a', queuedAt: T0 + 70 });
        await insert(a1, b1, a2, b2, c1, a3);
        await store.write(async (tx) => {
          expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 10))).toEqual(ids([b1, a1, a2, b2, a3]));
          expect(ids(await tx.claimable(ORG_A, ['b', 'a', 'c'], 3))).toEqual(ids([c1, b1, a1]));
          expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 4))).toEqual(ids([b1, a1, a2, b2]));
          expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 1))).toEqual(ids([b1]));
        });
      });

      it('claimable with typeLimits: at most that many of a type, still one claim order across the types', async () => {
        clock.set(T0 + 10_000);
        const a1 = task({ type: 'a', priority: 1, queuedAt: T0 + 300 });
        const b1 = task({ type: 'b', priority: 1, queuedAt: T0 + 100 });
        const a2 = task({ type: 'a', queuedAt: T0 + 50 });
        const b2 = task({ type: 'b', queuedAt: T0 + 60 });
        const c1 = task({ type: 'c', priority: 2, queuedAt: T0 + 900 });
        const a3 = task({ type: 'a', queuedAt: T0 + 70 });
        await insert(a1, b1, a2, b2, c1, a3);
        const limits = (entries: Array<[string, number]>) => new Map(entries);
        await store.write(async (tx) => {
          // A limit above the whole `limit` changes nothing; a type the map does not name is capped by `limit`.
          expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 10, limits([['a', 1]])))).toEqual(ids([b1, a1, b2]));
          expect(ids(await tx.claimable(ORG_A, ['a', 'b', 'c'], 4, limits([['c', 0]])))).toEqual(ids([b1, a1, a2, b2]));
          expect(
            ids(
              await tx.claimable(
                ORG_A,
                ['b', 'a'],
                3,
                limits([
                  ['a', 2],
                  ['b', 9],
                ]),
              ),
            ),
          ).toEqual(ids([b1, a1, a2]));
          expect(ids(await tx.claimable(ORG_A, ['a'], 5, limits([['a', 2]])))).toEqual(ids([a1, a2]));
          expect(await tx.claimable(ORG_A, ['a'], 5, limits([['a', 0]]))).toEqual([]);
        });
      });

      it('claimable: only queued tasks whose runAt is null or due, of the given types, of the org, at most limit', async () => {
        clock.set(T0 + 10_000);
        const due = task({ runAt: T0 + 10_000 });
        const past = task({ runAt: T0 + 5 });
        const now = task();
        const future = task({ runAt: T0 + 10_001 });
        const pdf = task({ type: 'pdf.render' });
        const other = task({ type: 'other' });
        const foreign = task({ orgId: ORG_B });
        const notQueued = (
          ['backlog', 'blocked', 'in_progress', 'needs_review', 'completed', 'failed', 'canceled'] as const
        ).map((s) => inStatus(s));
        await insert(due, past, now, future, pdf, other, foreign, ...notQueued);
        const claimable = (orgId: string, types: string[], limit = 100) =>
          store.write(async (tx) => ids(await tx.claimable(orgId, types, limit)).sort());

        expect(await claimable(ORG_A, ['email.send'])).toEqual(ids([due, past, now]).sort());
        expect(await claimable(ORG_A, ['email.send', 'pdf.render'])).toEqual(ids([due, past, now, pdf]).sort());
        expect(await claimable(ORG_A, ['pdf.render'])).toEqual([pdf.id]);
        expect(await claimable(ORG_A, ['nothing'])).toEqual([]);
        expect(await claimable(ORG_A, [])).toEqual([]);
        expect(await claimable(ORG_B, ['email.send'])).toEqual([foreign.id]);
        expect(await claimable(ORG_A, ['email.send', 'pdf.render'], 2)).toHaveLength(2);
        expect(await claimable(ORG_A, ['email.send'], 1)).toHaveLength(1);

        clock.set(T0 + 10_001);
        expect(await claimable(ORG_A, ['email.send'])).toEqual(ids([due, past, now, future]).sort());
      });

      it('recordClaims then countClaims: counts add up, since is inclusive, by type or all, one org', async () => {
        clock.set(T0 + 1_000);
        await store.write((tx) =>
          tx.recordClaims(ORG_A, [
            { type: 'email.send', count: 3 },
            { type: 'pdf.render', count: 1 },
          ]),
        );
        clock.set(T0 + 2_000);
        await store.write((tx) => tx.recordClaims(ORG_A, [{ type: 'email.send', count: 2 }]));
        await store.write((tx) => tx.recordClaims(ORG_B, [{ type: 'email.send', count: 7 }]));
        await store.write((tx) => tx.recordClaims(ORG_A, []));
        await store.read(async (tx) => {
          expect(await tx.countClaims(ORG_A, T0)).toBe(6);
          expect(await tx.countClaims(ORG_A, T0 + 1_000)).toBe(6);
          expect(await tx.countClaims(ORG_A, T0 + 1_001)).toBe(2);
          expect(await tx.countClaims(ORG_A, T0 + 2_000)).toBe(2);
          expect(await tx.countClaims(ORG_A, T0 + 2_001)).toBe(0);
          expect(await tx.countClaims(ORG_A, T0, 'email.send')).toBe(5);
          expect(await tx.countClaims(ORG_A, T0 + 1_001, 'email.send')).toBe(2);
          expect(await tx.countClaims(ORG_A, T0, 'pdf.render')).toBe(1);
          expect(await tx.countClaims(ORG_A, T0, 'other')).toBe(0);
          expect(await tx.countClaims(ORG_B, T0)).toBe(7);
          expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 1_001)).toBe(T0 + 2_000);
          expect(await tx.firstClaimSince(ORG_A, 'email.send', T0)).toBe(T0 + 1_000);
          expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 2_001)).toBeNull();
        });
      });

      it('a unit counts the claims it recorded itself, before and after more; type names of any text', async () => {
        clock.set(T0 + 1_000);
        const odd = "it's a \\ type";
        await store.write(async (tx) => {
          await tx.recordClaims(ORG_A, [{ type: odd, count: 2 }]);
          expect(await tx.countClaims(ORG_A, T0, odd)).toBe(2);
          await tx.recordClaims(ORG_A, [{ type: odd, count: 3 }]);
          await tx.recordClaims(ORG_B, [{ type: odd, count: 4 }]);
          expect(await tx.countClaims(ORG_A, T0, odd)).toBe(5);
          expect(await tx.firstClaimSince(ORG_A, odd, T0)).toBe(T0 + 1_000);
          await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
        });
        await store.read(async (tx) => {
          expect(await tx.countClaims(ORG_A, T0, odd)).toBe(5);
          expect(await tx.countClaims(ORG_A, T0)).toBe(6);
          expect(await tx.countClaims(ORG_B, T0, odd)).toBe(4);
        });
      });

      it('nextRunAt: the earliest future runAt among queued tasks of the types, of the org', async () => {
        clock.set(T0 + 1_000);
        await insert(
          task({ runAt: T0 + 900 }), // due already: not waiting
          task({ runAt: T0 + 1_000 }), // due now: not waiting
          task({ runAt: T0 + 5_000 }),
          task({ runAt: T0 + 3_000 }),
          task({ runAt: null }),
          task({ type: 'pdf.render', runAt: T0 + 2_000 }),
          task({ orgId: ORG_B, runAt: T0 + 1_500 }),
          inStatus('backlog', { runAt: T0 + 1_100 }),
          inStatus('failed', { runAt: T0 + 1_200 }),
        );
        await store.read(async (tx) => {
          expect(await tx.nextRunAt(ORG_A, ['email.send'])).toBe(T0 + 3_000);
          expect(await tx.nextRunAt(ORG_A, ['email.send', 'pdf.render'])).toBe(T0 + 2_000);
          expect(await tx.nextRunAt(ORG_A, ['other'])).toBeNull();
          expect(await tx.nextRunAt(ORG_B, ['email.send'])).toBe(T0 + 1_500);
          expect(await tx.nextRunAt(ORG_B, ['pdf.render'])).toBeNull();
        });
        clock.set(T0 + 3_000);
        expect(await store.read((tx) => tx.nextRunAt(ORG_A, ['email.send']))).toBe(T0 + 5_000);
        clock.set(T0 + 5_000);
        expect(await store.read((tx) => tx.nextRunAt(ORG_A, ['email.send']))).toBeNull();
      });
    });

    describe('sweeper and reaper', () => {
      it('overdueTasks: in-progress tasks of every org whose lease expired or timeout passed', async () => {
        clock.set(T0 + 10_000);
        const lease = (expiresAt: number) => ({ id: `lease-${expiresAt}`, workerId: 'w', expiresAt });
        const expired = inStatus('in_progress', { lease: lease(T0 + 9_999), timeoutAt: null });
        const expiresNow = inStatus('in_progress', { lease: lease(T0 + 10_000), timeoutAt: null });
        const timedOut = inStatus('in_progress', { lease: lease(T0 + 60_000), timeoutAt: T0 + 10_000 });
        const foreign = inStatus('in_progress', { orgId: ORG_B, lease: lease(T0 + 1), timeoutAt: null });
        const healthy = inStatus('in_progress', { lease: lease(T0 + 10_001), timeoutAt: T0 + 10_001 });
        // Leftover deadlines on tasks that are no longer in progress never count.
        const queued = inStatus('queued', { lease: lease(T0 + 1), timeoutAt: T0 + 1 });
        const review = inStatus('needs_review', { timeoutAt: T0 + 1 });
        await insert(expired, expiresNow, timedOut, foreign, healthy, queued, review);

        const overdue = await store.read((tx) => tx.overdueTasks(100));
        const byTask = new Map(overdue.map((o) => [o.taskId, o]));
        expect([...byTask.keys()].sort()).toEqual(ids([expired, expiresNow, timedOut, foreign]).sort());
        expect(byTask.get(expired.id)).toEqual({ orgId: ORG_A, taskId: expired.id, reason: 'lease_expired' });
        expect(byTask.get(timedOut.id)).toEqual({ orgId: ORG_A, taskId: timedOut.id, reason: 'timeout' });
        expect(byTask.get(foreign.id)).toEqual({ orgId: ORG_B, taskId: foreign.id, reason: 'lease_expired' });
        expect(await store.read((tx) => tx.overdueTasks(2))).toHaveLength(2);
      });

      it('reap deletes tasks whose expiresAt passed, with their steps, across orgs; keeps the rest', async () => {
        clock.set(T0 + 100_000);
        const gone = inStatus('completed', { expiresAt: T0 + 99_000 });
        const goneNow = inStatus('failed', { expiresAt: T0 + 100_000 });
        const goneB = inStatus('canceled', { orgId: ORG_B, expiresAt: T0 + 1 });
        const kept = inStatus('completed', { expiresAt: T0 + 100_001 });
        const active = inStatus('queued');
        await insert(gone, goneNow, goneB, kept, active);
        await store.write(async (tx) => {
          for (const t of [gone, kept]) await tx.appendSteps(t.orgId, t.id, [{ time: T0, message: `step of ${t.id}` }]);
        });

        const cutoffs = { eventsBefore: 0, idempotencyBefore: 0, claimsBefore: 0 };
        expect(await store.write((tx) => tx.reap(100, cutoffs))).toBe(3);
        await store.read(async (tx) => {
          expect(await tx.getTasks(ORG_A, ids([gone, goneNow, kept, active])).then((ts) => ids(ts).sort())).toEqual(
            ids([kept, active]).sort(),
          );
          expect(await tx.getTask(ORG_B, goneB.id)).toBeNull();
          expect(await tx.getSteps(ORG_A, gone.id)).toEqual([]);
          expect(await tx.getSteps(ORG_A, kept.id)).toEqual([{ time: T0, message: `step of ${kept.id}` }]);
        });
        expect(await store.write((tx) => tx.reap(100, cutoffs))).toBe(0);
      });

      it('reap is bounded by limit and returns how many tasks went', async () => {
        clock.set(T0 + 10_000);
        const expired = Array.from({ length: 5 }, () => inStatus('completed', { expiresAt: T0 + 1 }));
        await insert(...expired);
        const cutoffs = { eventsBefore: 0, idempotencyBefore: 0, claimsBefore: 0 };
        const counts: number[] = [];
        for (let i = 0; i < 4; i++) counts.push(await store.write((tx) => tx.reap(2, cutoffs)));
        expect(counts).toEqual([2, 2, 1, 0]);
        expect(await store.read((tx) => tx.getTasks(ORG_A, ids(expired)))).toEqual([]);
      });

      it('reap deletes events, idempotency records and claim log rows older than their cutoffs', async () => {
        const t = task();
        await insert(t);
        const event = { orgId: ORG_A, taskId: t.id, type: 'task.updated' as const, data: null };
        for (const at of [T0 + 100, T0 + 200, T0 + 300]) {
          clock.set(at);
          await store.write(async (tx) => {
            await tx.appendEvents([event, { ...event, orgId: ORG_B }]);
            await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
            await tx.putIdempotency({ orgId: ORG_A, key: `k${at}`, requestHash: 'h', taskIds: [t.id], createdAt: at });
          });
        }
        clock.set(T0 + 1_000);
        const reaped = await store.write((tx) =>
          tx.reap(100, { eventsBefore: T0 + 200, idempotencyBefore: T0 + 300, claimsBefore: T0 + 201 }),
        );
        expect(reaped).toBe(0);
        await store.read(async (tx) => {
          // "Older than" the cutoff: a row made exactly at it stays.
          expect((await tx.listEvents(ORG_A, 0, 100)).map((e) => e.time)).toEqual([T0 + 200, T0 + 300]);
          expect((await tx.listEvents(ORG_B, 0, 100)).map((e) => e.time)).toEqual([T0 + 200, T0 + 300]);
          expect(await tx.getIdempotency(ORG_A, `k${T0 + 100}`, 0)).toBeNull();
          expect(await tx.getIdempotency(ORG_A, `k${T0 + 200}`, 0)).toBeNull();
          expect(await tx.getIdempotency(ORG_A, `k${T0 + 300}`, 0)).not.toBeNull();
          expect(await tx.countClaims(ORG_A, 0)).toBe(1);
          expect(await tx.getTask(ORG_A, t.id)).toEqual(t);
        });
      });
    });

    describe('lists and stats', () => {
      it('getListTasks: the tasks of one list of one org, oldest first, at most limit', async () => {
        const [l1, l2, l3] = [
          task({ listId: 'L1' }),
          task({ listId: 'L1', status: 'completed' }),
          task({ listId: 'L1' }),
        ];
        await insert(l3, task({ listId: 'L2' }), l1, task(), task({ orgId: ORG_B, listId: 'L1' }), l2);
        await store.read(async (tx) => {
          expect(await tx.getListTasks(ORG_A, 'L1', 100)).toEqual([l1, l2, l3]);
          expect(ids(await tx.getListTasks(ORG_A, 'L1', 2))).toEqual(ids([l1, l2]));
          expect(await tx.getListTasks(ORG_A, 'L9', 100)).toEqual([]);
          expect(await tx.getListTasks(ORG_B, 'L1', 100)).toHaveLength(1);
        });
      });

      it('countTasks: counts by status and type, archived included, of the org or one of its lists', async () => {
        await insert(
          task({ listId: 'L1' }),
          task({ listId: 'L1', archivedAt: T0 }),
          inStatus('completed', { listId: 'L1' }),
          task({ type: 'pdf.render', listId: 'L1' }),
          task({ type: 'pdf.render' }),
          inStatus('failed', { type: 'pdf.render', listId: 'L2' }),
          task({ orgId: ORG_B, listId: 'L1' }),
        );
        await store.read(async (tx) => {
          expect(sortedCounts(await tx.countTasks(ORG_A))).toEqual(
            sortedCounts([
              { status: 'queued', type: 'email.send', count: 2 },
              { status: 'completed', type: 'email.send', count: 1 },
              { status: 'queued', type: 'pdf.render', count: 2 },
              { status: 'failed', type: 'pdf.render', count: 1 },
            ]),
          );
          expect(sortedCounts(await tx.countTasks(ORG_A, 'L1'))).toEqual(
            sortedCounts([
              { status: 'queued', type: 'email.send', count: 2 },
              { status: 'completed', type: 'email.send', count: 1 },
              { status: 'queued', type: 'pdf.render', count: 1 },
            ]),
          );
          expect(await tx.countTasks(ORG_A, 'L9')).toEqual([]);
          expect(await tx.countTasks(ORG_B)).toEqual([{ status: 'queued', type: 'email.send', count: 1 }]);
        });
      });

      it('oldestQueuedAt: the oldest queuedAt among claimable queued tasks of the org', async () => {
        clock.set(T0 + 10_000);
        await store.read(async (tx) => expect(await tx.oldestQueuedAt(ORG_A)).toBeNull());
        await insert(
          task({ queuedAt: T0 + 300 }),
          task({ queuedAt: T0 + 200 }),
          task({ queuedAt: T0 + 100, runAt: T0 + 20_000 }), // not claimable yet
          inStatus('backlog', { queuedAt: T0 + 1 }),
          inStatus('in_progress', { queuedAt: T0 + 2 }),
          task({ orgId: ORG_B, queuedAt: T0 + 50 }),
        );
        await store.read(async (tx) => {
          expect(await tx.oldestQueuedAt(ORG_A)).toBe(T0 + 200);
          expect(await tx.oldestQueuedAt(ORG_B)).toBe(T0 + 50);
          expect(await tx.oldestQueuedAt('org_missing')).toBeNull();
        });
      });
    });
  });
}
