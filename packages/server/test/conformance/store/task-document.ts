/** getTaskDocument: the task's wire JSON rendered by the database in one statement. */
import { beforeEach, describe, expect, it } from 'vitest';
import { TaskSchema } from '@tasklane/sdk/schemas';
import type { TaskKey, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { wireTask } from '../../helpers/wire-task.js';
import { deferred, type StoreTopic } from './fixture.js';

export const taskDocument: StoreTopic = (fx) => {
  const { nextId, task, insert, get } = fx;

  describe('getTaskDocument', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
};
