/** subscribe: every committed change is announced, after commit, to every listener. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskChange, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B } from '../../helpers/task-factory.js';
import { byId, core, type StoreTopic } from './fixture.js';

export const subscribe: StoreTopic = (fx) => {
  const { task, insert } = fx;

  describe('subscribe', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
};
