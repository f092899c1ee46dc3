/** Steps: a task's history, appended and read back in order, for one task or many. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';
import type { StoreTopic } from './fixture.js';

export const steps: StoreTopic = (fx) => {
  const { task, insert } = fx;

  describe('steps', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
};
