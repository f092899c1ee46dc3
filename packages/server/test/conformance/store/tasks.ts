/** Tasks: insert, read, update one or many (version-fenced), lock, dependencies, delete. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskChange, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, uuidV7, eventOf } from '../../helpers/task-factory.js';
import { byId, core, type StoreTopic } from './fixture.js';

export const tasks: StoreTopic = (fx) => {
  const { task, insert, get } = fx;

  describe('tasks', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
        claimedAt: T0 + 9,
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
        task({ input: { big: 'x'.repeat(500) }, error: { code: 'OLD', message: 'before', retryable: false } }),
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
        error: { code: 'E', message: tricky, details: { list: [null, 1.5, tricky] }, retryable: false },
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
        byId([a4, b3, c2].map((t) => ({ orgId: ORG_A, taskId: t.id, id: t.id, version: t.version, status: t.status }))),
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
        await tx.appendEvents([eventOf(b, 'task.created')]);
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
};
