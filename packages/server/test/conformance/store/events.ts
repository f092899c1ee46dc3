/** Events: appended in a unit with their task's type, list and project; listed per org by increasing id. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { NewEvent, StoredEvent, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, eventOf } from '../../helpers/task-factory.js';
import { type StoreTopic } from './fixture.js';

export const events: StoreTopic = (fx) => {
  const { task, insert } = fx;

  describe('events', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    const list = (orgId: string, afterId = 0, limit = 1_000): Promise<StoredEvent[]> =>
      store.read((tx) => tx.listEvents(orgId, afterId, limit));
    const append = (...evs: NewEvent[]) => store.write((tx) => tx.appendEvents(evs));

    it('appendEvents then listEvents: increasing ids, afterId and limit', async () => {
      const [t1, t2] = [task(), task({ orgId: ORG_B })];
      await insert(t1, t2);
      const ev = (t: Task, data: NewEvent['data']) => eventOf(t, 'task.status_changed', data);
      clock.set(T0 + 10);
      await append(ev(t1, { n: 1 }), ev(t2, { n: 1 }), ev(t1, { n: 2 }));
      clock.set(T0 + 20);
      // Text that needs escaping wherever the events are written into a statement.
      const tricky = { s: 'it\'s "quoted" \\ back\nslash \u2028 ünï 🚀', e: "E'x'", d: '$1 $$' };
      await append(ev(t1, { n: 3 }), ev(t1, [4, 'four', tricky]));

      const all = await list(ORG_A, 0, 100);
      expect(all.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, [4, 'four', tricky]]);
      expect(all.map((e) => e.time)).toEqual([T0 + 10, T0 + 10, T0 + 20, T0 + 20]);
      for (const e of all) expect(e).toMatchObject({ orgId: ORG_A, taskId: t1.id, type: 'task.status_changed' });
      const eventIds = all.map((e) => e.id);
      for (let i = 1; i < eventIds.length; i++) expect(eventIds[i]).toBeGreaterThan(eventIds[i - 1] ?? Infinity);

      const second = eventIds[1] ?? -1;
      expect((await list(ORG_A, second, 100)).map((e) => e.id)).toEqual(eventIds.slice(2));
      expect((await list(ORG_A, 0, 2)).map((e) => e.id)).toEqual(eventIds.slice(0, 2));
      expect(await list(ORG_A, eventIds[3] ?? -1, 100)).toEqual([]);
      const b = await list(ORG_B, 0, 100);
      expect(b.map((e) => [e.taskId, e.data])).toEqual([[t2.id, { n: 1 }]]);
    });

    it("an event keeps its task's type, list and project, and reads back exactly as appended", async () => {
      const filed = task({ type: 'pdf.render', listId: 'list-1', projectId: 'p1' });
      const loose = task();
      await insert(filed, loose);
      clock.set(T0 + 5);
      const appended = [
        eventOf(filed, 'task.created', { status: 'queued', version: 1 }),
        eventOf(loose, 'task.updated'),
      ];
      await append(...appended);
      const stored = await list(ORG_A);
      expect(stored.map(({ id: _id, time: _time, ...rest }) => rest)).toEqual(appended);
      expect(stored[0]).toMatchObject({ taskType: 'pdf.render', listId: 'list-1', projectId: 'p1', time: T0 + 5 });
      expect(stored[1]).toMatchObject({ taskType: 'email.send', listId: null, projectId: null });
    });
  });
};
