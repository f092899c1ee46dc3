/** Every method is scoped by org: nothing of org A is visible or writable through org B. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, eventOf } from '../../helpers/task-factory.js';
import { ids, type StoreTopic } from './fixture.js';

export const orgScoping: StoreTopic = (fx) => {
  const { task, insert, get, project } = fx;

  describe('org scoping', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
        await tx.appendEvents([eventOf(t, 'task.created', { a: 1 })]);
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
};
