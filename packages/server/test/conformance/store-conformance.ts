/**
 * The TaskStore contract (src/storage/task-store.ts), as one suite every adapter runs. It tests the
 * contract only: what the doc comments promise, through the interface, never an adapter's tables.
 * Each test gets a fresh, migrated store from `factory`, with orgs ORG_A and ORG_B already in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { Task } from '../../src/domain/task.js';
import type {
  ApiKey,
  IdempotencyRecord,
  NewEvent,
  Project,
  TaskChange,
  TaskFilter,
  TaskKey,
  TaskStore,
} from '../../src/storage/task-store.js';
import { TaskSchema } from '@tasklane/sdk/schemas';
import { ORG_A, ORG_B, T0, idSequence, makeTask, uuidV7 } from '../helpers/task-factory.js';
import { wireTask } from '../helpers/wire-task.js';

export interface StoreUnderTest {
  store: TaskStore;
  clock: ManualClock;
  cleanup: () => Promise<void>;
}

/** A promise plus the function that resolves it: lets a test hold a unit of work open. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const byId = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));
const ids = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id);
/** The fields of a TaskChange the contract promises (adapters may announce more). */
const core = ({ orgId, taskId, version, status }: TaskChange) => ({ orgId, taskId, version, status });

export function storeConformanceSuite(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`TaskStore contract: ${name}`, () => {
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
        await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 + 1 });
      });
    });

    afterEach(async () => {
      await sut.cleanup();
    });

    /** A new task of org A (unless overridden) with the next id. */
    const task = (overrides: Partial<Task> = {}): Task => makeTask({ id: nextId(), ...overrides });
    const insert = (...tasks: Task[]): Promise<void> => store.write((tx) => tx.insertTasks(tasks));
    const get = (orgId: string, taskId: string): Promise<Task | null> => store.read((tx) => tx.getTask(orgId, taskId));
    const list = (filter: TaskFilter, limit = 100, afterId: string | null = null) =>
      store.read((tx) => tx.listTasks(ORG_A, filter, limit, afterId));
    const key = (orgId: string, id: string, overrides: Partial<ApiKey> = {}): ApiKey => ({
      id,
      orgId,
      name: `key ${id}`,
      scopes: ['tasks:read', 'tasks:write'],
      hash: `hash-${orgId}-${id}`.padEnd(64, '0'),
      createdAt: T0,
      expiresAt: null,
      revokedAt: null,
      ...overrides,
    });
    const project = (orgId: string, id: string, projectKey: string, nextNumber = 1): Project => ({
      id,
      orgId,
      key: projectKey,
      name: `Project ${projectKey}`,
      nextNumber,
      createdAt: T0,
    });
    /** One counter step: read the row for update, write it back at version + 1. */
    const increment = (s: TaskStore, orgId: string, taskId: string): Promise<boolean> =>
      s.write(async (tx) => {
        const current = await tx.getTaskForUpdate(orgId, taskId);
        if (current === null) throw new Error('counter task missing');
        return tx.updateTask({ ...current, version: current.version + 1, updatedAt: tx.now });
      });

    describe('migrate, ping, orgs', () => {
      it('migrate() is idempotent: running it twice more keeps schema and data', async () => {
        await store.migrate();
        await store.migrate();
        const t = task();
        await insert(t);
        expect(await store.read((tx) => tx.countOrgs())).toBe(2);
        expect(await get(ORG_A, t.id)).toEqual(t);
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('insertOrg, getOrg, countOrgs', async () => {
        await store.write((tx) => tx.insertOrg({ id: 'org_c', name: 'Org C', createdAt: T0 + 5 }));
        await store.read(async (tx) => {
          expect(await tx.getOrg('org_c')).toEqual({ id: 'org_c', name: 'Org C', createdAt: T0 + 5 });
          expect(await tx.getOrg(ORG_A)).toEqual({ id: ORG_A, name: 'Org A', createdAt: T0 });
          expect(await tx.getOrg('org_missing')).toBeNull();
          expect(await tx.countOrgs()).toBe(3);
        });
      });
    });

    describe('API keys', () => {
      it('insertKey, findKeyByHash (across orgs), listKeys (one org)', async () => {
        const a1 = key(ORG_A, 'k1', { expiresAt: T0 + 86_400_000, scopes: ['admin'] });
        const a2 = key(ORG_A, 'k2', { createdAt: T0 + 10 });
        const b1 = key(ORG_B, 'k3');
        await store.write(async (tx) => {
          for (const k of [a1, a2, b1]) await tx.insertKey(k);
        });
        await store.read(async (tx) => {
          expect(await tx.findKeyByHash(a1.hash)).toEqual(a1);
          expect(await tx.findKeyByHash(b1.hash)).toEqual(b1);
          expect(await tx.findKeyByHash('f'.repeat(64))).toBeNull();
          expect(byId(await tx.listKeys(ORG_A))).toEqual([a1, a2]);
          expect(await tx.listKeys(ORG_B)).toEqual([b1]);
          expect(await tx.listKeys('org_missing')).toEqual([]);
        });
        // The store's own lookup (what authenticates every request) answers the same.
        expect(await store.findKeyByHash(a1.hash)).toEqual(a1);
        expect(await store.findKeyByHash(b1.hash)).toEqual(b1);
        expect(await store.findKeyByHash('f'.repeat(64))).toBeNull();
      });

      it('revokeKey: true once; false the second time, for another org, or an unknown key', async () => {
        const a1 = key(ORG_A, 'k1');
        const b1 = key(ORG_B, 'k2');
        await store.write(async (tx) => {
          await tx.insertKey(a1);
          await tx.insertKey(b1);
        });
        expect(await store.write((tx) => tx.revokeKey(ORG_B, a1.id, T0 + 50))).toBe(false);
        expect(await store.read((tx) => tx.findKeyByHash(a1.hash))).toEqual(a1);
        expect(await store.write((tx) => tx.revokeKey(ORG_A, a1.id, T0 + 100))).toBe(true);
        expect(await store.write((tx) => tx.revokeKey(ORG_A, a1.id, T0 + 200))).toBe(false);
        expect(await store.write((tx) => tx.revokeKey(ORG_A, 'k_missing', T0 + 200))).toBe(false);
        await store.read(async (tx) => {
          // Revoked or not, the lookup by hash finds it; the first revocation time stays.
          expect(await tx.findKeyByHash(a1.hash)).toEqual({ ...a1, revokedAt: T0 + 100 });
          expect(await tx.findKeyByHash(b1.hash)).toEqual(b1);
        });
        // store.findKeyByHash sees a committed revocation at once, and never one still open that
        // rolls back.
        expect(await store.findKeyByHash(a1.hash)).toEqual({ ...a1, revokedAt: T0 + 100 });
        const revoked = deferred();
        const hold = deferred();
        const unit = store.write(async (tx) => {
          await tx.revokeKey(ORG_B, b1.id, T0 + 300);
          revoked.resolve();
          await hold.promise;
          throw new Error('roll back');
        });
        await revoked.promise;
        // SQLite in memory shares one connection: the lookup waits for the unit instead.
        const during = store.findKeyByHash(b1.hash);
        hold.resolve();
        await expect(unit).rejects.toThrow('roll back');
        expect(await during).toEqual(b1);
        expect(await store.write((tx) => tx.revokeKey(ORG_B, b1.id, T0 + 400))).toBe(true);
        expect(await store.findKeyByHash(b1.hash)).toEqual({ ...b1, revokedAt: T0 + 400 });
      });
    });

    describe('tasks', () => {
      it('insertTasks then getTask returns every field as written', async () => {
        const dep = task();
        const full = task({
          projectId: 'p1',
          identifier: 'OPS-7',
          listId: 'list-1',
          type: 'pentest.run',
          title: 'Scan "prod" — ünïcode',
          description: 'A long\nmultiline description',
          input: { prompt: 'hi', n: [1, 2.5, null, true], nested: { deep: { x: 'y' } } },
          status: 'in_progress',
          priority: -1000,
          progress: 0.375,
          progressMessage: '3 of 8',
          result: [1, 'two', { three: 3 }],
          error: { code: 'TIMED_OUT', message: 'slow', details: { ms: 1234 }, retryable: true },
          attempt: 2,
          retryCount: 1,
          maxRetries: 5,
          retryPolicy: { strategy: 'linear', delayMs: 250, maxDelayMs: 10_000, jitter: 'none' },
          leaseMs: 15_000,
          timeoutMs: 600_000,
          runAt: T0 + 9,
          dependsOn: [dep.id],
          blockedBy: [dep.id],
          blockedReason: 'why not',
          blockKind: 'dependencies',
          onDependencyFailure: 'run',
          assignee: 'agent-7',
          createdBy: 'ci',
          pollCount: 3,
          requiresReview: true,
          metadata: { team: 'sec', retries: 2, flags: { a: true }, none: null },
          labels: ['red', 'blue'],
          idempotencyKey: 'idem-1',
          ttlSeconds: 86_400,
          version: 9,
          createdAt: T0 + 1,
          updatedAt: T0 + 2,
          queuedAt: T0 + 3,
          startedAt: T0 + 4,
          completedAt: T0 + 5,
          blockedAt: T0 + 6,
          archivedAt: T0 + 7,
          expiresAt: T0 + 8,
          timeoutAt: T0 + 10,
          lease: { id: 'lease-xyz', workerId: 'worker-9', expiresAt: T0 + 11, lengthMs: 10 },
        });
        const minimal = task({ input: null, result: null, metadata: {}, labels: [], queuedAt: null });
        await insert(dep, full, minimal);
        expect(await get(ORG_A, full.id)).toEqual(full);
        expect(await get(ORG_A, minimal.id)).toEqual(minimal);
        expect(await get(ORG_A, dep.id)).toEqual(dep);
        expect(await get(ORG_A, uuidV7(999))).toBeNull();
      });

      it('getTasks returns the existing ones (any order), ignoring unknown ids', async () => {
        const [t1, t2, t3] = [task(), task(), task()];
        await insert(t1, t2, t3);
        await store.read(async (tx) => {
          expect(byId(await tx.getTasks(ORG_A, [t3.id, uuidV7(999), t1.id]))).toEqual([t1, t3]);
          expect(await tx.getTasks(ORG_A, [])).toEqual([]);
          expect(await tx.getTasks(ORG_A, [uuidV7(999)])).toEqual([]);
        });
      });

      it('getTaskByIdentifier', async () => {
        const t1 = task({ projectId: 'p1', identifier: 'OPS-1' });
        const t2 = task({ projectId: 'p1', identifier: 'OPS-2' });
        await insert(t1, t2, task());
        await store.read(async (tx) => {
          expect(await tx.getTaskByIdentifier(ORG_A, 'OPS-2')).toEqual(t2);
          expect(await tx.getTaskByIdentifier(ORG_A, 'OPS-1')).toEqual(t1);
          expect(await tx.getTaskByIdentifier(ORG_A, 'OPS-3')).toBeNull();
        });
      });

      it('getTaskForUpdate reads like getTask', async () => {
        const t = task();
        await insert(t);
        await store.write(async (tx) => {
          expect(await tx.getTaskForUpdate(ORG_A, t.id)).toEqual(t);
          expect(await tx.getTaskForUpdate(ORG_A, uuidV7(999))).toBeNull();
        });
      });

      it('updateTask writes only when the stored version is task.version - 1', async () => {
        const t = task({ version: 3 });
        await insert(t);
        const v4 = { ...t, version: 4, status: 'in_progress' as const, title: 'v4' };
        expect(await store.write((tx) => tx.updateTask(v4))).toBe(true);
        expect(await get(ORG_A, t.id)).toEqual(v4);

        // Stale writes: another unit got there first (same next version), or a version skipped.
        for (const stale of [
          { ...t, version: 4, title: 'lost update' },
          { ...t, version: 6, title: 'skipped a version' },
          { ...t, version: 3, title: 'same version' },
        ]) {
          expect(await store.write((tx) => tx.updateTask(stale))).toBe(false);
          expect(await get(ORG_A, t.id)).toEqual(v4);
        }
        expect(await store.write((tx) => tx.updateTask(task({ version: 2 })))).toBe(false);
      });

      it('updateTasks writes the set in one call: each task only if its row is still at previous.version', async () => {
        const [a, b, c] = [
          task({ version: 3, result: { before: 1 } }),
          task(),
          task({ input: { big: 'x'.repeat(500) }, error: { code: 'OLD', message: 'before' } }),
        ];
        await insert(a, b, c);
        const changes: TaskChange[] = [];
        const stop = store.subscribe((ch) => changes.push(ch));
        const a4 = {
          ...a,
          version: 4,
          status: 'in_progress' as const,
          progress: 0.5,
          metadata: { k: 1 },
          result: null,
        };
        // Two versions ahead of what is stored: a batch may apply several changes to one task.
        // JSON values travel inside the rows' JSON (jsonRows): strings that need escaping, an error
        // set and one cleared (SQL NULL), a JSON null kept as JSON null.
        const tricky = 'quote " back \\ line\n \u2028 ünï 🚀';
        const b3 = {
          ...b,
          version: 3,
          title: 'twice',
          labels: ['x', tricky],
          requiresReview: true,
          error: { code: 'E', message: tricky, details: { list: [null, 1.5, tricky] } },
        };
        const c2 = {
          ...c,
          version: 2,
          result: { ok: true, text: tricky },
          error: null,
          completedAt: T0 + 5,
          lease: null,
        };
        const stale = { ...c, version: 9, title: 'stale' };
        const written = await store.write(async (tx) => {
          const n = await tx.updateTasks([
            { task: a4, previous: a },
            { task: b3, previous: b },
            { task: c2, previous: c },
          ]);
          // Read back inside the unit: its own writes are visible.
          expect(byId(await tx.getTasks(ORG_A, [a.id, b.id, c.id]))).toEqual(byId([a4, b3, c2]));
          return n;
        });
        expect(written).toBe(3);
        expect(await get(ORG_A, a.id)).toEqual(a4);
        expect(await get(ORG_A, b.id)).toEqual(b3);
        expect(await get(ORG_A, c.id)).toEqual(c2);
        // A previous that is not what is stored any more (and a foreign org) writes nothing.
        expect(
          await store.write((tx) =>
            tx.updateTasks([
              { task: stale, previous: c },
              { task: { ...a4, orgId: ORG_B, version: 5 }, previous: { ...a4, orgId: ORG_B } },
            ]),
          ),
        ).toBe(0);
        expect(await get(ORG_A, c.id)).toEqual(c2);
        expect(await store.write((tx) => tx.updateTasks([]))).toBe(0);
        stop();
        expect(byId(changes.map(core).map((ch) => ({ ...ch, id: ch.taskId })))).toEqual(
          byId(
            [a4, b3, c2].map((t) => ({ orgId: ORG_A, taskId: t.id, id: t.id, version: t.version, status: t.status })),
          ),
        );
      });

      it('getTasksForUpdate: the tasks of the org that exist, with their rows locked for the unit', async () => {
        const [a, b] = [task(), task()];
        await insert(a, b);
        await store.write(async (tx) => {
          expect(byId(await tx.getTasksForUpdate(ORG_A, [b.id, a.id, uuidV7(999)]))).toEqual(byId([a, b]));
          expect(await tx.getTasksForUpdate(ORG_B, [a.id])).toEqual([]);
          expect(await tx.getTasksForUpdate(ORG_A, [])).toEqual([]);
        });
      });

      it('dependedOn: which of the tasks some task depends on', async () => {
        const [a, d, lone] = [task(), task(), task()];
        const b = task({ dependsOn: [a.id] });
        const c = task({ dependsOn: [a.id, d.id] });
        await insert(a, d, lone, b, c);
        await store.read(async (tx) => {
          expect([...(await tx.dependedOn(ORG_A, [a.id, d.id, lone.id, b.id]))].sort()).toEqual([a.id, d.id].sort());
          expect(await tx.dependedOn(ORG_B, [a.id, d.id])).toEqual(new Set());
          expect(await tx.dependedOn(ORG_A, [])).toEqual(new Set());
        });
      });

      it('a unit reads its own writes', async () => {
        const t = task();
        await store.write(async (tx) => {
          await tx.insertTasks([t]);
          expect(await tx.getTask(ORG_A, t.id)).toEqual(t);
          const v2 = { ...t, version: 2, title: 'renamed' };
          expect(await tx.updateTask(v2)).toBe(true);
          expect(await tx.getTask(ORG_A, t.id)).toEqual(v2);
        });
      });

      it('getDependents: the tasks whose dependsOn names the task', async () => {
        const [a, d] = [task(), task()];
        const b = task({ dependsOn: [a.id] });
        const c = task({ dependsOn: [a.id, d.id] });
        await insert(a, d, b, c);
        await store.read(async (tx) => {
          expect(byId(await tx.getDependents(ORG_A, a.id))).toEqual(byId([b, c]));
          expect(await tx.getDependents(ORG_A, d.id)).toEqual([c]);
          expect(await tx.getDependents(ORG_A, b.id)).toEqual([]);
        });
      });

      it('deleteTask removes the task with its steps and dependency edges; events stay', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id], status: 'completed' });
        await insert(a, b);
        await store.write(async (tx) => {
          await tx.appendSteps(ORG_A, b.id, [{ time: T0, message: 'done' }]);
          await tx.appendEvents([{ orgId: ORG_A, taskId: b.id, type: 'task.created', data: null }]);
        });
        expect(await store.write((tx) => tx.deleteTask(ORG_B, b.id))).toBe(false);
        expect(await store.write((tx) => tx.deleteTask(ORG_A, b.id))).toBe(true);
        expect(await store.write((tx) => tx.deleteTask(ORG_A, b.id))).toBe(false);
        await store.read(async (tx) => {
          expect(await tx.getTask(ORG_A, b.id)).toBeNull();
          expect(await tx.getSteps(ORG_A, b.id)).toEqual([]);
          expect(await tx.getDependents(ORG_A, a.id)).toEqual([]);
          expect((await tx.listEvents(ORG_A, 0, 100)).map((e) => e.taskId)).toEqual([b.id]);
        });
      });
    });

    describe('org scoping', () => {
      it('a task of org A is invisible through org B', async () => {
        const a = task({ projectId: 'p1', identifier: 'OPS-1' });
        const dependent = task({ dependsOn: [a.id] });
        await insert(a, dependent);
        await store.write((tx) => tx.appendSteps(ORG_A, a.id, [{ time: T0, message: 'step' }]));
        await store.read(async (tx) => {
          expect(await tx.getTask(ORG_B, a.id)).toBeNull();
          expect(await tx.getTasks(ORG_B, [a.id, dependent.id])).toEqual([]);
          expect(await tx.getTaskByIdentifier(ORG_B, 'OPS-1')).toBeNull();
          expect(await tx.listTasks(ORG_B, {}, 100, null)).toEqual({ items: [], hasMore: false, lastId: null });
          expect(await tx.getDependents(ORG_B, a.id)).toEqual([]);
          expect(await tx.getSteps(ORG_B, a.id)).toEqual([]);
          expect((await tx.getStepsOf(ORG_B, [a.id])).get(a.id) ?? []).toEqual([]);
        });
        await store.write(async (tx) => {
          expect(await tx.getTaskForUpdate(ORG_B, a.id)).toBeNull();
          // A record claiming org B for A's id touches nothing.
          expect(await tx.updateTask({ ...a, orgId: ORG_B, version: 2, title: 'hijack' })).toBe(false);
          await tx.appendSteps(ORG_B, a.id, [{ time: T0, message: 'foreign' }]);
        });
        expect(await get(ORG_A, a.id)).toEqual(a);
        expect(await store.read((tx) => tx.getSteps(ORG_A, a.id))).toEqual([{ time: T0, message: 'step' }]);
      });

      it('the same identifier in two orgs: each org sees its own', async () => {
        const a = task({ identifier: 'OPS-1', title: 'A' });
        const b = task({ orgId: ORG_B, identifier: 'OPS-1', title: 'B' });
        await insert(a, b);
        await store.read(async (tx) => {
          expect(await tx.getTaskByIdentifier(ORG_A, 'OPS-1')).toEqual(a);
          expect(await tx.getTaskByIdentifier(ORG_B, 'OPS-1')).toEqual(b);
          expect(ids((await tx.listTasks(ORG_B, {}, 100, null)).items)).toEqual([b.id]);
        });
      });

      it('events, projects and idempotency records of org A are invisible through org B', async () => {
        const t = task();
        await insert(t);
        await store.write(async (tx) => {
          await tx.appendEvents([{ orgId: ORG_A, taskId: t.id, type: 'task.created', data: { a: 1 } }]);
          await tx.insertProject(project(ORG_A, 'p1', 'OPS'));
          await tx.putIdempotency({ orgId: ORG_A, key: 'k', requestHash: 'h', taskIds: [t.id], createdAt: T0 });
        });
        await store.read(async (tx) => {
          expect(await tx.listEvents(ORG_B, 0, 100)).toEqual([]);
          expect(await tx.getProject(ORG_B, 'p1')).toBeNull();
          expect(await tx.getProjectByKey(ORG_B, 'OPS')).toBeNull();
          expect(await tx.listProjects(ORG_B)).toEqual([]);
          expect(await tx.getIdempotency(ORG_B, 'k', 0)).toBeNull();
        });
      });
    });

    describe('listTasks', () => {
      it('newest first (id descending), whatever the insertion order', async () => {
        const ts = [task(), task(), task(), task(), task()];
        const [t1, t2, t3, t4, t5] = ts as [Task, Task, Task, Task, Task];
        await insert(t3, t1, t5);
        await insert(t2, t4);
        const page = await list({});
        expect(ids(page.items)).toEqual(ids([t5, t4, t3, t2, t1]));
        expect(page.items[0]).toEqual(t5);
        expect(page.hasMore).toBe(false);
        expect(page.lastId).toBeNull();
      });

      it('every filter, alone and combined', async () => {
        const t1 = task({
          status: 'queued',
          type: 'email.send',
          listId: 'L1',
          projectId: 'P1',
          assignee: 'w1',
          labels: ['red', 'blue'],
          createdAt: T0 + 1_000,
        });
        const t2 = task({
          status: 'in_progress',
          type: 'pdf.render',
          listId: 'L2',
          assignee: 'w2',
          labels: ['blue', '50%_off'],
          createdAt: T0 + 2_000,
        });
        const t3 = task({
          status: 'completed',
          type: 'email.send',
          listId: 'L1',
          projectId: 'P2',
          createdAt: T0 + 3_000,
        });
        const t4 = task({
          status: 'failed',
          type: 'pdf.render',
          projectId: 'P1',
          assignee: 'w1',
          labels: ['red'],
          createdAt: T0 + 4_000,
        });
        const t5 = task({ status: 'queued', labels: ['red'], archivedAt: T0 + 5_500, createdAt: T0 + 5_000 });
        await insert(t1, t2, t3, t4, t5);

        const cases: Array<[TaskFilter, Task[]]> = [
          [{}, [t4, t3, t2, t1]],
          [{ archived: false }, [t4, t3, t2, t1]],
          // archived: true lists archived tasks along with the others (SPEC §7: hidden unless asked for).
          [{ archived: true }, [t5, t4, t3, t2, t1]],
          [{ archived: true, label: 'red' }, [t5, t4, t1]],
          [{ archived: true, status: ['failed'] }, [t4]],
          [{ status: ['queued'] }, [t1]],
          [{ status: ['queued', 'failed'] }, [t4, t1]],
          [{ status: ['needs_review'] }, []],
          [{ type: 'email.send' }, [t3, t1]],
          [{ listId: 'L1' }, [t3, t1]],
          [{ projectId: 'P1' }, [t4, t1]],
          [{ assignee: 'w1' }, [t4, t1]],
          [{ label: 'red' }, [t4, t1]],
          [{ label: 'blue' }, [t2, t1]],
          [{ label: '50%_off' }, [t2]],
          [{ label: '50%' }, []],
          [{ label: 're' }, []],
          [{ createdAfter: T0 + 2_500 }, [t4, t3]],
          [{ createdBefore: T0 + 2_500 }, [t2, t1]],
          [{ createdAfter: T0 + 1_500, createdBefore: T0 + 3_500 }, [t3, t2]],
          [{ type: 'email.send', label: 'red' }, [t1]],
          [{ status: ['queued', 'in_progress', 'failed'], assignee: 'w1', projectId: 'P1' }, [t4, t1]],
        ];
        for (const [filter, expected] of cases) {
          const page = await list(filter);
          expect({ filter, ids: ids(page.items) }).toEqual({ filter, ids: ids(expected) });
          expect(page.hasMore).toBe(false);
        }
      });

      it('limit and afterId page through with hasMore and lastId', async () => {
        const ts = [task(), task(), task(), task(), task()];
        await insert(...ts);
        const newestFirst = ids(ts).reverse();

        const p1 = await list({}, 2);
        expect(ids(p1.items)).toEqual(newestFirst.slice(0, 2));
        expect(p1).toMatchObject({ hasMore: true, lastId: newestFirst[1] });
        const p2 = await list({}, 2, p1.lastId);
        expect(ids(p2.items)).toEqual(newestFirst.slice(2, 4));
        expect(p2).toMatchObject({ hasMore: true, lastId: newestFirst[3] });
        const p3 = await list({}, 2, p2.lastId);
        expect(ids(p3.items)).toEqual(newestFirst.slice(4));
        expect(p3).toMatchObject({ hasMore: false, lastId: null });

        // Exactly `limit` left: no more after them.
        const exact = await list({}, 4, newestFirst[0] ?? null);
        expect(ids(exact.items)).toEqual(newestFirst.slice(1));
        expect(exact).toMatchObject({ hasMore: false, lastId: null });
      });

      it('pages through a filtered list', async () => {
        const ts = Array.from({ length: 7 }, (_, i) => task({ status: i % 2 === 0 ? 'queued' : 'failed' }));
        await insert(...ts);
        const queued = ids(ts.filter((t) => t.status === 'queued')).reverse();
        const p1 = await list({ status: ['queued'] }, 3);
        expect(ids(p1.items)).toEqual(queued.slice(0, 3));
        expect(p1.hasMore).toBe(true);
        const p2 = await list({ status: ['queued'] }, 3, p1.lastId);
        expect(ids(p2.items)).toEqual(queued.slice(3));
        expect(p2.hasMore).toBe(false);
      });

      it('is stable: tasks inserted between pages do not change the next page', async () => {
        const ts = [task(), task(), task(), task(), task()];
        await insert(...ts);
        const newestFirst = ids(ts).reverse();
        const p1 = await list({}, 2);
        await insert(task(), task(), task());
        const p2 = await list({}, 2, p1.lastId);
        expect(ids(p2.items)).toEqual(newestFirst.slice(2, 4));
        await insert(task());
        const p3 = await list({}, 2, p2.lastId);
        expect(ids(p3.items)).toEqual(newestFirst.slice(4));
        expect(p3.hasMore).toBe(false);
      });
    });

    describe('steps', () => {
      it('appendSteps then getSteps: the whole history, oldest first, data kept', async () => {
        const t = task();
        await insert(t);
        await store.write((tx) =>
          tx.appendSteps(ORG_A, t.id, [
            { time: T0 + 1, message: 'one' },
            { time: T0 + 2, message: 'two', data: { n: 2, list: [1, 'x'] } },
          ]),
        );
        await store.write((tx) => tx.appendSteps(ORG_A, t.id, []));
        await store.write((tx) =>
          tx.appendSteps(ORG_A, t.id, [
            { time: T0 + 3, message: 'three', data: null },
            { time: T0 + 3, message: 'four', data: 'text' },
          ]),
        );
        expect(await store.read((tx) => tx.getSteps(ORG_A, t.id))).toEqual([
          { time: T0 + 1, message: 'one' },
          { time: T0 + 2, message: 'two', data: { n: 2, list: [1, 'x'] } },
          { time: T0 + 3, message: 'three', data: null },
          { time: T0 + 3, message: 'four', data: 'text' },
        ]);
      });

      it('getStepsOf: the steps of many tasks, oldest first per task', async () => {
        const [a, b, c] = [task(), task(), task()];
        await insert(a, b, c);
        await store.write(async (tx) => {
          await tx.appendSteps(ORG_A, b.id, [{ time: T0 + 1, message: 'b1' }]);
          await tx.appendSteps(ORG_A, a.id, [{ time: T0 + 2, message: 'a1' }]);
          await tx.appendSteps(ORG_A, b.id, [{ time: T0 + 3, message: 'b2' }]);
          await tx.appendSteps(ORG_A, a.id, [{ time: T0 + 4, message: 'a2' }]);
        });
        const steps = await store.read((tx) => tx.getStepsOf(ORG_A, [a.id, b.id, c.id]));
        expect(steps.get(a.id)?.map((s) => s.message)).toEqual(['a1', 'a2']);
        expect(steps.get(b.id)?.map((s) => s.message)).toEqual(['b1', 'b2']);
        expect(steps.get(c.id) ?? []).toEqual([]);
        expect(await store.read((tx) => tx.getSteps(ORG_A, c.id))).toEqual([]);
        expect((await store.read((tx) => tx.getStepsOf(ORG_A, []))).size).toBe(0);
      });
    });

    describe('getTaskDocument', () => {
      /** What the rest of the API answers for a task (wire-task.ts): the reference the document must equal. */
      const expected = async (orgId: string, id: string) => {
        const t = await get(orgId, id);
        if (t === null) throw new Error(`no task ${id}`);
        return wireTask({ task: t, steps: await store.read((tx) => tx.getSteps(orgId, id)) });
      };
      const documentOf = (orgId: string, key: TaskKey) => store.getTaskDocument(orgId, key);

      it('parses to exactly the wire task the API answers for the task and its steps, in the schema order', async () => {
        const plain = task();
        const full = task({
          projectId: 'prj_1',
          identifier: 'OPS-7',
          listId: 'list-1',
          title: 'Ünïcödé "quoted" \\ back\nslash \u2028 🚀',
          description: 'tab\there',
          input: { nested: { a: [1, 2.5, -3e-7, true, null, 'x'] }, big: 12345678901234, empty: {}, list: [] },
          status: 'in_progress',
          priority: -12,
          progress: 1 / 3,
          progressMessage: 'a third',
          result: 'text result',
          error: { code: 'TIMED_OUT', message: 'late', retryable: true },
          attempt: 2,
          retryCount: 1,
          retryPolicy: { strategy: 'linear', delayMs: 250, maxDelayMs: 60_000, jitter: 'none' },
          leaseMs: 30_000,
          timeoutMs: 90_000,
          runAt: T0 + 1,
          dependsOn: ['d1', 'd2'],
          blockedBy: ['d2'],
          blockedReason: 'waiting',
          assignee: 'ada',
          createdBy: null,
          pollCount: 9,
          requiresReview: true,
          metadata: { k: 'v', n: 1 },
          labels: ['x', 'y'],
          idempotencyKey: 'idem-1',
          version: 7,
          createdAt: T0 + 1,
          updatedAt: T0 + 999,
          queuedAt: T0 + 10,
          startedAt: T0 + 20,
          completedAt: null,
          blockedAt: T0 + 30,
          archivedAt: Date.UTC(2099, 11, 31, 23, 59, 59, 5),
          expiresAt: Date.UTC(1999, 0, 1, 0, 0, 0, 0),
          timeoutAt: T0 + 90_020,
          lease: { id: 'lease-secret', workerId: 'w-1', expiresAt: T0 + 30_020, lengthMs: 30_000 },
        });
        await insert(plain, full);
        await store.write((tx) =>
          tx.appendSteps(ORG_A, full.id, [
            { time: T0 + 1, message: 'one' },
            { time: T0 + 2, message: 'two', data: { n: 2, list: [1, 'x'] } },
            { time: T0 + 3, message: 'three', data: null },
          ]),
        );
        for (const t of [plain, full]) {
          const doc = await documentOf(ORG_A, { id: t.id });
          expect(doc).not.toBeNull();
          const parsed: unknown = JSON.parse(doc?.json ?? '');
          const want = await expected(ORG_A, t.id);
          expect(parsed).toEqual(want);
          expect(Object.keys(parsed as object)).toEqual(Object.keys(TaskSchema.properties));
          expect(doc).toMatchObject({ id: t.id, status: t.status, version: t.version });
        }
        const fullDoc = await documentOf(ORG_A, { id: full.id });
        expect(fullDoc?.json).not.toContain('lease-secret');
        const steps = (JSON.parse(fullDoc?.json ?? '') as { steps: object[] }).steps;
        expect(steps.map((s) => Object.keys(s))).toEqual([
          ['time', 'message'],
          ['time', 'message', 'data'],
          ['time', 'message', 'data'],
        ]);
      });

      it('finds by identifier; a foreign org or an unknown key finds nothing', async () => {
        const t = task({ projectId: 'prj_1', identifier: 'OPS-8' });
        await insert(t);
        expect((await documentOf(ORG_A, { identifier: 'OPS-8' }))?.id).toBe(t.id);
        expect(await documentOf(ORG_B, { id: t.id })).toBeNull();
        expect(await documentOf(ORG_B, { identifier: 'OPS-8' })).toBeNull();
        expect(await documentOf(ORG_A, { id: nextId() })).toBeNull();
        expect(await documentOf(ORG_A, { identifier: 'OPS-9' })).toBeNull();
      });

      it('never sees a unit of work that is still open or rolls back; sees one that committed', async () => {
        const t = task();
        await insert(t);
        const written = deferred();
        const hold = deferred();
        const unit = store.write(async (tx) => {
          await tx.updateTask({ ...t, title: 'uncommitted', version: 2 }, t);
          written.resolve();
          await hold.promise;
          throw new Error('roll back');
        });
        await written.promise;
        // SQLite in memory shares one connection: the read waits for the unit instead.
        const during = store.getTaskDocument(ORG_A, { id: t.id });
        hold.resolve();
        await expect(unit).rejects.toThrow('roll back');
        expect((await during)?.version).toBe(1);
        await store.write((tx) => tx.updateTask({ ...t, title: 'committed', version: 2 }, t));
        const after = await store.getTaskDocument(ORG_A, { id: t.id });
        expect(after?.version).toBe(2);
        expect(JSON.parse(after?.json ?? '')).toMatchObject({ title: 'committed', version: 2 });
      });

      it('times are written as Date#toISOString writes them, for any millisecond', async () => {
        const times = [0, 1, 999, 1000, 1_700_000_000_123, 1_700_000_000_999, Date.UTC(2038, 0, 19, 3, 14, 8, 1)];
        const tasks = times.map((ms) => task({ createdAt: ms, updatedAt: ms + 1, queuedAt: null }));
        await insert(...tasks);
        for (const [i, t] of tasks.entries()) {
          const parsed = JSON.parse((await documentOf(ORG_A, { id: t.id }))?.json ?? '') as Record<string, unknown>;
          expect(parsed['createdAt']).toBe(new Date(times[i] as number).toISOString());
          expect(parsed['queuedAt']).toBeNull();
        }
      });
    });

    describe('events', () => {
      it('appendEvents then listEvents: increasing ids, afterId and limit', async () => {
        const [t1, t2] = [task(), task({ orgId: ORG_B })];
        await insert(t1, t2);
        const ev = (taskId: string, data: NewEvent['data'], orgId = ORG_A): NewEvent => ({
          orgId,
          taskId,
          type: 'task.status_changed',
          data,
        });
        clock.set(T0 + 10);
        await store.write((tx) =>
          tx.appendEvents([ev(t1.id, { n: 1 }), ev(t2.id, { n: 1 }, ORG_B), ev(t1.id, { n: 2 })]),
        );
        clock.set(T0 + 20);
        // Text that needs escaping wherever the events are written into a statement.
        const tricky = { s: 'it\'s "quoted" \\ back\nslash \u2028 ünï 🚀', e: "E'x'", d: '$1 $$' };
        await store.write((tx) => tx.appendEvents([ev(t1.id, { n: 3 }), ev(t1.id, [4, 'four', tricky])]));

        const all = await store.read((tx) => tx.listEvents(ORG_A, 0, 100));
        expect(all.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, [4, 'four', tricky]]);
        expect(all.map((e) => e.time)).toEqual([T0 + 10, T0 + 10, T0 + 20, T0 + 20]);
        for (const e of all) expect(e).toMatchObject({ orgId: ORG_A, taskId: t1.id, type: 'task.status_changed' });
        const eventIds = all.map((e) => e.id);
        for (let i = 1; i < eventIds.length; i++) expect(eventIds[i]).toBeGreaterThan(eventIds[i - 1] ?? Infinity);

        const second = eventIds[1] ?? -1;
        expect((await store.read((tx) => tx.listEvents(ORG_A, second, 100))).map((e) => e.id)).toEqual(
          eventIds.slice(2),
        );
        expect((await store.read((tx) => tx.listEvents(ORG_A, 0, 2))).map((e) => e.id)).toEqual(eventIds.slice(0, 2));
        expect(await store.read((tx) => tx.listEvents(ORG_A, eventIds[3] ?? -1, 100))).toEqual([]);
        const b = await store.read((tx) => tx.listEvents(ORG_B, 0, 100));
        expect(b.map((e) => [e.taskId, e.data])).toEqual([[t2.id, { n: 1 }]]);
      });
    });

    describe('projects', () => {
      it('insertProject, getProject, getProjectByKey, listProjects', async () => {
        const ops = project(ORG_A, 'p1', 'OPS');
        const dev = project(ORG_A, 'p2', 'DEV', 10);
        const opsB = project(ORG_B, 'p3', 'OPS');
        await store.write(async (tx) => {
          for (const p of [ops, dev, opsB]) await tx.insertProject(p);
        });
        await store.read(async (tx) => {
          expect(await tx.getProject(ORG_A, 'p1')).toEqual(ops);
          expect(await tx.getProjectByKey(ORG_A, 'DEV')).toEqual(dev);
          expect(await tx.getProjectByKey(ORG_B, 'OPS')).toEqual(opsB);
          expect(await tx.getProjectByKey(ORG_A, 'NOPE')).toBeNull();
          expect(await tx.getProject(ORG_A, 'p3')).toBeNull();
          expect(byId(await tx.listProjects(ORG_A))).toEqual([ops, dev]);
          expect(await tx.listProjects(ORG_B)).toEqual([opsB]);
        });
      });

      it('takeProjectNumbers reserves ranges and never hands a number out twice', async () => {
        await store.write((tx) => tx.insertProject(project(ORG_A, 'p1', 'OPS')));
        const take = (count: number) => store.write((tx) => tx.takeProjectNumbers(ORG_A, 'p1', count));
        expect(await take(1)).toBe(1);
        expect(await take(3)).toBe(2); // 2, 3, 4
        expect(await take(1)).toBe(5);
        expect((await store.read((tx) => tx.getProject(ORG_A, 'p1')))?.nextNumber).toBe(6);

        // Concurrent units: every number distinct, the counter past them all.
        const firsts = await Promise.all(Array.from({ length: 10 }, (_, i) => take(i % 2 === 0 ? 1 : 2)));
        const taken = firsts.flatMap((first, i) => (i % 2 === 0 ? [first] : [first, first + 1]));
        expect(new Set(taken).size).toBe(taken.length);
        expect(Math.min(...taken)).toBe(6);
        expect(Math.max(...taken)).toBe(6 + 15 - 1);
        expect((await store.read((tx) => tx.getProject(ORG_A, 'p1')))?.nextNumber).toBe(21);
      });
    });

    describe('idempotency records', () => {
      it('putIdempotency, getIdempotency honouring notBefore', async () => {
        const rec: IdempotencyRecord = {
          orgId: ORG_A,
          key: 'create-42',
          requestHash: 'a'.repeat(64),
          taskIds: [uuidV7(3), uuidV7(1), uuidV7(2)],
          createdAt: T0 + 1_000,
        };
        await store.write((tx) => tx.putIdempotency(rec));
        await store.read(async (tx) => {
          expect(await tx.getIdempotency(ORG_A, 'create-42', T0)).toEqual(rec);
          expect(await tx.getIdempotency(ORG_A, 'create-42', T0 + 1_000)).toEqual(rec);
          expect(await tx.getIdempotency(ORG_A, 'create-42', T0 + 1_001)).toBeNull();
          expect(await tx.getIdempotency(ORG_A, 'create-43', T0)).toBeNull();
        });
      });
    });

    describe('units of work', () => {
      it('write() returns what the callback returns', async () => {
        expect(await store.write(async () => 42)).toBe(42);
        expect(await store.read(async (tx) => tx.countOrgs())).toBe(2);
      });

      it('write() rolls back everything when the callback throws', async () => {
        const kept = task();
        const doomed = task({ status: 'completed' });
        await insert(kept, doomed);
        const k = key(ORG_A, 'k1');
        await store.write(async (tx) => {
          await tx.insertKey(k);
          await tx.insertProject(project(ORG_A, 'p1', 'OPS'));
          await tx.appendSteps(ORG_A, kept.id, [{ time: T0, message: 'before' }]);
        });
        const before = await store.read(async (tx) => ({
          events: await tx.listEvents(ORG_A, 0, 100),
          orgs: await tx.countOrgs(),
        }));

        const boom = new Error('boom');
        const fresh = task();
        await expect(
          store.write(async (tx) => {
            await tx.insertOrg({ id: 'org_c', name: 'C', createdAt: T0 });
            await tx.insertKey(key(ORG_A, 'k2'));
            expect(await tx.revokeKey(ORG_A, 'k1', T0 + 1)).toBe(true);
            await tx.insertTasks([fresh]);
            expect(await tx.updateTask({ ...kept, version: 2, title: 'changed' })).toBe(true);
            expect(await tx.deleteTask(ORG_A, doomed.id)).toBe(true);
            await tx.appendSteps(ORG_A, kept.id, [{ time: T0 + 1, message: 'after' }]);
            await tx.appendEvents([{ orgId: ORG_A, taskId: kept.id, type: 'task.updated', data: null }]);
            await tx.insertProject(project(ORG_A, 'p2', 'DEV'));
            expect(await tx.takeProjectNumbers(ORG_A, 'p1', 5)).toBe(1);
            await tx.putIdempotency({ orgId: ORG_A, key: 'i', requestHash: 'h', taskIds: [fresh.id], createdAt: T0 });
            throw boom;
          }),
        ).rejects.toBe(boom);

        await store.read(async (tx) => {
          expect(await tx.getOrg('org_c')).toBeNull();
          expect(await tx.countOrgs()).toBe(before.orgs);
          expect(await tx.listKeys(ORG_A)).toEqual([k]);
          expect(await tx.getTask(ORG_A, fresh.id)).toBeNull();
          expect(await tx.getTask(ORG_A, kept.id)).toEqual(kept);
          expect(await tx.getTask(ORG_A, doomed.id)).toEqual(doomed);
          expect(await tx.getSteps(ORG_A, kept.id)).toEqual([{ time: T0, message: 'before' }]);
          expect(await tx.listEvents(ORG_A, 0, 100)).toEqual(before.events);
          expect(await tx.getProjectByKey(ORG_A, 'DEV')).toBeNull();
          expect((await tx.getProject(ORG_A, 'p1'))?.nextNumber).toBe(1);
          expect(await tx.getIdempotency(ORG_A, 'i', 0)).toBeNull();
        });
        // The store is usable after a rollback.
        await insert(fresh);
        expect(await get(ORG_A, fresh.id)).toEqual(fresh);
      });

      it('read() never sees the uncommitted rows of an open write unit', async () => {
        const t = task();
        const inserted = deferred();
        const gate = deferred();
        const writing = store.write(async (tx) => {
          await tx.insertTasks([t]);
          inserted.resolve();
          await gate.promise;
          throw new Error('roll back');
        });
        await inserted.promise;
        // An adapter may run this read beside the open unit or after it; either way it must not see `t`.
        const reading = store.read((tx) => tx.getTask(ORG_A, t.id));
        gate.resolve();
        await expect(writing).rejects.toThrow('roll back');
        expect(await reading).toBeNull();
        expect(await get(ORG_A, t.id)).toBeNull();
      });

      it('read() sees a unit all or nothing', async () => {
        const [t1, t2] = [task(), task()];
        const halfway = deferred();
        const gate = deferred();
        const writing = store.write(async (tx) => {
          await tx.insertTasks([t1]);
          halfway.resolve();
          await gate.promise;
          await tx.insertTasks([t2]);
        });
        await halfway.promise;
        const reading = store.read((tx) => tx.getTasks(ORG_A, [t1.id, t2.id]));
        gate.resolve();
        await writing;
        expect([0, 2]).toContain((await reading).length);
        expect(byId(await store.read((tx) => tx.getTasks(ORG_A, [t1.id, t2.id])))).toEqual([t1, t2]);
      });
    });

    describe('subscribe', () => {
      it('announces inserts and updates after commit, with orgId, taskId, version, status', async () => {
        const changes: TaskChange[] = [];
        const unsubscribe = store.subscribe((c) => changes.push(c));
        const [t1, t2] = [task(), task({ orgId: ORG_B, status: 'blocked', version: 5 })];
        await store.write(async (tx) => {
          await tx.insertTasks([t1, t2]);
          expect(changes).toEqual([]); // not before commit
        });
        expect(byId(changes.map((c) => ({ ...core(c), id: c.taskId })))).toEqual(
          byId([
            { orgId: ORG_A, taskId: t1.id, version: 1, status: 'queued', id: t1.id },
            { orgId: ORG_B, taskId: t2.id, version: 5, status: 'blocked', id: t2.id },
          ]),
        );

        changes.length = 0;
        await store.write(async (tx) => {
          expect(await tx.updateTask({ ...t1, version: 2, status: 'in_progress' })).toBe(true);
          expect(await tx.updateTask({ ...t1, version: 2, status: 'failed' })).toBe(false); // stale: not announced
          expect(changes).toEqual([]);
        });
        expect(changes.map(core)).toEqual([{ orgId: ORG_A, taskId: t1.id, version: 2, status: 'in_progress' }]);

        changes.length = 0;
        unsubscribe();
        await store.write((tx) => tx.updateTask({ ...t1, version: 3, status: 'completed' }));
        expect(changes).toEqual([]);
      });

      it('announces nothing for a rolled-back unit', async () => {
        const t = task();
        await insert(t);
        const changes: TaskChange[] = [];
        store.subscribe((c) => changes.push(c));
        await expect(
          store.write(async (tx) => {
            await tx.insertTasks([task()]);
            await tx.updateTask({ ...t, version: 2 });
            throw new Error('no');
          }),
        ).rejects.toThrow('no');
        expect(changes).toEqual([]);
      });

      it('every listener hears every change', async () => {
        const first: TaskChange[] = [];
        const second: TaskChange[] = [];
        store.subscribe((c) => first.push(c));
        store.subscribe((c) => second.push(c));
        const t = task();
        await insert(t);
        expect(first.map(core)).toEqual([{ orgId: ORG_A, taskId: t.id, version: 1, status: 'queued' }]);
        expect(second).toEqual(first);
      });
    });

    describe('clock', () => {
      it('tx.now is clock.now() at the start of the unit, and stays for the whole unit', async () => {
        const t = task();
        await insert(t);
        clock.set(T0 + 12_345);
        const seen = await store.write(async (tx) => {
          const atStart = tx.now;
          clock.advance(5_000);
          await tx.appendEvents([{ orgId: ORG_A, taskId: t.id, type: 'task.created', data: null }]);
          return { atStart, later: tx.now };
        });
        expect(seen).toEqual({ atStart: T0 + 12_345, later: T0 + 12_345 });
        expect((await store.read((tx) => tx.listEvents(ORG_A, 0, 10)))[0]?.time).toBe(T0 + 12_345);
        expect(await store.read(async (tx) => tx.now)).toBe(T0 + 17_345);
        clock.advance(1);
        expect(await store.write(async (tx) => tx.now)).toBe(T0 + 17_346);
      });
    });

    describe('concurrency', () => {
      it('20 concurrent write units incrementing one counter all succeed (serializable)', async () => {
        const counter = task();
        await insert(counter);
        const results = await Promise.all(Array.from({ length: 20 }, () => increment(store, ORG_A, counter.id)));
        expect(results).toEqual(Array.from({ length: 20 }, () => true));
        expect((await get(ORG_A, counter.id))?.version).toBe(21);
      });
    });

    describe('close', () => {
      it('after close(), every call rejects', async () => {
        await store.close();
        const calls: Array<() => Promise<unknown>> = [
          () => store.read((tx) => tx.countOrgs()),
          () => store.write((tx) => tx.countOrgs()),
          () => store.ping(),
          () => store.migrate(),
        ];
        for (const call of calls) {
          // Wrapped so that a synchronous throw also counts as a rejection here (see the next test).
          await expect(Promise.resolve().then(call)).rejects.toThrow();
        }
        await expect(store.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      });

      it('after close(), read() and write() return a rejected promise instead of throwing synchronously', async () => {
        await store.close();
        const outcome = (call: () => Promise<unknown>): Promise<string> => {
          let promise: Promise<unknown>;
          try {
            promise = call();
          } catch {
            return Promise.resolve('threw synchronously');
          }
          return promise.then(
            () => 'resolved',
            () => 'rejected',
          );
        };
        expect(await outcome(() => store.read((tx) => tx.countOrgs()))).toBe('rejected');
        expect(await outcome(() => store.write((tx) => tx.countOrgs()))).toBe('rejected');
        expect(await outcome(() => store.ping())).toBe('rejected');
      });
    });
  });
}
