/** Events: appended in a unit, listed per org by increasing id. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { NewEvent, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { type StoreTopic } from './fixture.js';

export const events: StoreTopic = (fx) => {
  const { task, insert } = fx;

  describe('events', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

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
      expect((await store.read((tx) => tx.listEvents(ORG_A, second, 100))).map((e) => e.id)).toEqual(eventIds.slice(2));
      expect((await store.read((tx) => tx.listEvents(ORG_A, 0, 2))).map((e) => e.id)).toEqual(eventIds.slice(0, 2));
      expect(await store.read((tx) => tx.listEvents(ORG_A, eventIds[3] ?? -1, 100))).toEqual([]);
      const b = await store.read((tx) => tx.listEvents(ORG_B, 0, 100));
      expect(b.map((e) => [e.taskId, e.data])).toEqual([[t2.id, { n: 1 }]]);
    });
  });
};
