/** Projects and the identifier numbers they hand out. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B } from '../../helpers/task-factory.js';
import { byId, type StoreTopic } from './fixture.js';

export const projects: StoreTopic = (fx) => {
  const { project } = fx;

  describe('projects', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
};
