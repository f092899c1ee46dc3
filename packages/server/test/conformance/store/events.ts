/**
 * Events: appended in a unit with their task's type, list and project; listed per org by increasing
 * id, filtered; the org's bounds (the reaper's horizon, the last id); the local commit hook.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { EventFilter, NewEvent, StoredEvent, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, eventOf } from '../../helpers/task-factory.js';
import { type StoreTopic } from './fixture.js';

const NO_CUTOFFS = { idempotencyBefore: 0, claimsBefore: 0 };

export const events: StoreTopic = (fx) => {
  const { task, insert } = fx;

  describe('events', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    const list = (orgId: string, afterId = 0, limit = 1_000, filter?: EventFilter): Promise<StoredEvent[]> =>
      store.read((tx) => tx.listEvents(orgId, afterId, limit, filter));
    const bounds = (orgId: string) => store.read((tx) => tx.eventBounds(orgId));
    const append = (...evs: NewEvent[]) => store.write((tx) => tx.appendEvents(evs));
    /** A reap that deletes only events, those older than `before`. */
    const reapEvents = (before: number) => store.write((tx) => tx.reap(100, { eventsBefore: before, ...NO_CUTOFFS }));

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

    it('listEvents filters by task, event types, task type, list and project, each alone and combined', async () => {
      const a = task({ type: 'email.send', listId: 'L1', projectId: 'P1' });
      const b = task({ type: 'email.send', listId: 'L2', projectId: null });
      const c = task({ type: 'pdf.render', listId: 'L1', projectId: 'P2' });
      const other = task({ orgId: ORG_B, type: 'email.send', listId: 'L1', projectId: 'P1' });
      await insert(a, b, c, other);
      await append(eventOf(a, 'task.created'), eventOf(b, 'task.created'), eventOf(c, 'task.created'));
      await append(eventOf(other, 'task.created'), eventOf(a, 'task.progress'), eventOf(c, 'task.step'));
      await append(eventOf(b, 'task.status_changed'), eventOf(a, 'task.step'), eventOf(c, 'task.deleted'));
      const all = await list(ORG_A);
      expect(all).toHaveLength(8);
      /** The events `filter` must return: those of `all` that `keep` accepts, in id order. */
      const expectFilter = async (filter: EventFilter, keep: (e: StoredEvent) => boolean) => {
        const want = all.filter(keep);
        expect(want.length, JSON.stringify(filter)).toBeGreaterThan(0);
        expect(await list(ORG_A, 0, 1_000, filter), JSON.stringify(filter)).toEqual(want);
      };
      await expectFilter({ taskId: a.id }, (e) => e.taskId === a.id);
      await expectFilter({ types: ['task.step'] }, (e) => e.type === 'task.step');
      await expectFilter({ types: ['task.created', 'task.deleted'] }, (e) =>
        ['task.created', 'task.deleted'].includes(e.type),
      );
      await expectFilter({ taskType: 'email.send' }, (e) => e.taskType === 'email.send');
      await expectFilter({ listId: 'L1' }, (e) => e.listId === 'L1');
      await expectFilter({ projectId: 'P2' }, (e) => e.projectId === 'P2');
      await expectFilter({ taskType: 'email.send', listId: 'L1' }, (e) => e.taskId === a.id);
      await expectFilter({ listId: 'L1', types: ['task.step'] }, (e) => e.type === 'task.step');
      await expectFilter(
        { taskId: c.id, types: ['task.step', 'task.deleted'], taskType: 'pdf.render', listId: 'L1', projectId: 'P2' },
        (e) => e.taskId === c.id && e.type !== 'task.created',
      );
      // Nothing matches: an empty list of types, a filter of another org's values, contradicting fields.
      expect(await list(ORG_A, 0, 1_000, { types: [] })).toEqual([]);
      expect(await list(ORG_A, 0, 1_000, { listId: 'nope' })).toEqual([]);
      expect(await list(ORG_A, 0, 1_000, { taskId: a.id, listId: 'L2' })).toEqual([]);
      expect(await list(ORG_B, 0, 1_000, { taskId: a.id })).toEqual([]);
      // afterId and limit count matching events only.
      const ofA = all.filter((e) => e.taskId === a.id);
      expect(await list(ORG_A, ofA[0]?.id, 1, { taskId: a.id })).toEqual([ofA[1]]);
      expect(await list(ORG_A, 0, 2, { listId: 'L1' })).toEqual(all.filter((e) => e.listId === 'L1').slice(0, 2));
    });

    it("one task's events come back in the order written, between other tasks' events", async () => {
      const [a, b] = [task(), task()];
      await insert(a, b);
      for (let i = 0; i < 5; i++) {
        await append(eventOf(a, 'task.updated', { n: i }), eventOf(b, 'task.updated', { n: i }));
        await append(eventOf(b, 'task.progress', { n: i }), eventOf(a, 'task.progress', { n: i }));
      }
      const ofA = await list(ORG_A, 0, 1_000, { taskId: a.id });
      expect(ofA.map((e) => [e.type, e.data])).toEqual(
        [0, 1, 2, 3, 4].flatMap((n) => [
          ['task.updated', { n }],
          ['task.progress', { n }],
        ]),
      );
      const ids = ofA.map((e) => e.id);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      // Paging through one task's events by afterId loses none.
      const paged: number[] = [];
      for (let page = await list(ORG_A, 0, 3, { taskId: a.id }); page.length > 0;) {
        paged.push(...page.map((e) => e.id));
        page = await list(ORG_A, paged.at(-1), 3, { taskId: a.id });
      }
      expect(paged).toEqual(ids);
    });

    it('eventBounds: nothing in an empty org; the last id after writes, also inside the writing unit', async () => {
      expect(await bounds(ORG_A)).toEqual({ horizon: 0, lastId: 0 });
      const t = task();
      await insert(t);
      await append(eventOf(t, 'task.created'), eventOf(t, 'task.updated'));
      const last = (await list(ORG_A)).at(-1)?.id;
      expect(await bounds(ORG_A)).toEqual({ horizon: 0, lastId: last });
      const inside = await store.write(async (tx) => {
        await tx.appendEvents([eventOf(t, 'task.progress')]);
        return { bounds: await tx.eventBounds(ORG_A), listed: (await tx.listEvents(ORG_A, 0, 100)).at(-1)?.id };
      });
      expect(inside.bounds).toEqual({ horizon: 0, lastId: inside.listed });
      expect(await bounds(ORG_A)).toEqual({ horizon: 0, lastId: inside.listed });
      expect(await bounds(ORG_B)).toEqual({ horizon: 0, lastId: 0 });
    });

    it("a reap raises the org's horizon to the highest id it deleted there; lastId stays", async () => {
      const [a, b] = [task(), task({ orgId: ORG_B })];
      await insert(a, b);
      for (const at of [100, 200, 300]) {
        clock.set(T0 + at);
        await append(eventOf(a, 'task.updated', { at }), eventOf(b, 'task.updated', { at }));
      }
      const [a100, a200, a300] = await list(ORG_A);
      const [b100] = await list(ORG_B);
      const lastA = (await bounds(ORG_A)).lastId;
      const lastB = (await bounds(ORG_B)).lastId;
      expect(lastA).toBe(a300?.id);

      clock.set(T0 + 1_000);
      await reapEvents(T0 + 200);
      expect(await bounds(ORG_A)).toEqual({ horizon: a100?.id, lastId: lastA });
      expect(await bounds(ORG_B)).toEqual({ horizon: b100?.id, lastId: lastB });
      // A stream resuming at the horizon misses nothing: what is left follows it.
      expect((await list(ORG_A, a100?.id)).map((e) => e.id)).toEqual([a200?.id, a300?.id]);

      // A reap that deletes nothing leaves it; one that deletes every event moves it to the last.
      await reapEvents(T0 + 200);
      expect((await bounds(ORG_A)).horizon).toBe(a100?.id);
      await reapEvents(T0 + 1_000);
      expect(await bounds(ORG_A)).toEqual({ horizon: lastA, lastId: lastA });
      expect(await list(ORG_A)).toEqual([]);
      // New events after a full reap are numbered above it.
      await append(eventOf(a, 'task.updated'));
      const [next] = await list(ORG_A);
      expect(next?.id).toBeGreaterThan(lastA);
      expect(await bounds(ORG_A)).toEqual({ horizon: lastA, lastId: next?.id });
    });

    it('the horizon is never lowered, and a reap rolled back records none', async () => {
      const t = task();
      await insert(t);
      // A later id with an older time (units whose clocks overlap): reaped first.
      clock.set(T0 + 500);
      await append(eventOf(t, 'task.updated', { at: 500 }));
      clock.set(T0 + 100);
      await append(eventOf(t, 'task.updated', { at: 100 }));
      const [early, late] = await list(ORG_A);
      clock.set(T0 + 1_000);
      const boom = new Error('boom');
      await expect(
        store.write(async (tx) => {
          await tx.reap(100, { eventsBefore: T0 + 1_000, ...NO_CUTOFFS });
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await bounds(ORG_A)).horizon).toBe(0);
      expect(await list(ORG_A)).toHaveLength(2);

      await reapEvents(T0 + 200);
      expect((await bounds(ORG_A)).horizon).toBe(late?.id);
      await reapEvents(T0 + 1_000);
      expect(await list(ORG_A)).toEqual([]);
      expect(early?.id).toBeLessThan(late?.id ?? 0);
      expect((await bounds(ORG_A)).horizon).toBe(late?.id);
    });
  });

  describe('onCommit', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    /** Every call of an onCommit listener, as the events it heard. */
    const hear = () => {
      const heard: Array<readonly NewEvent[]> = [];
      const stop = store.onCommit((evs) => heard.push(evs));
      return { heard, stop };
    };

    it('hears each committed unit once, with exactly its events in order; not a unit without events', async () => {
      const [a, b] = [task(), task({ orgId: ORG_B, listId: 'L' })];
      await insert(a, b);
      const { heard, stop } = hear();
      const first = [eventOf(a, 'task.created', { n: 1 }), eventOf(b, 'task.created'), eventOf(a, 'task.step')];
      const second = [eventOf(b, 'task.deleted', { version: 2 })];
      await store.write(async (tx) => {
        await tx.appendEvents(first.slice(0, 2));
        await tx.insertTasks([task()]);
        await tx.appendEvents(first.slice(2));
      });
      await store.write((tx) => tx.appendEvents(second));
      await store.write((tx) => tx.insertTasks([task()]));
      await store.read((tx) => tx.listEvents(ORG_A, 0, 10));
      expect(heard).toEqual([first, second]);
      stop();
      await store.write((tx) => tx.appendEvents(second));
      expect(heard).toHaveLength(2);
    });

    it('hears nothing of a unit rolled back, nor of a nested unit undone; a listener that throws fails nothing', async () => {
      const t = task();
      await insert(t);
      const { heard } = hear();
      store.onCommit(() => {
        throw new Error('a broken metrics listener');
      });
      const boom = new Error('boom');
      await expect(
        store.write(async (tx) => {
          await tx.appendEvents([eventOf(t, 'task.updated', { rolledBack: true })]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(heard).toEqual([]);

      const ev = (n: number) => eventOf(t, 'task.updated', { n });
      await store.write(async (tx) => {
        await tx.appendEvents([ev(1)]);
        await tx.nested(() => tx.appendEvents([ev(2)]));
        await expect(
          tx.nested(async () => {
            await tx.appendEvents([ev(3)]);
            throw boom;
          }),
        ).rejects.toBe(boom);
        await tx.appendEvents([ev(4)]);
      });
      expect(heard).toEqual([[ev(1), ev(2), ev(4)]]);
      expect((await store.read((tx) => tx.listEvents(ORG_A, 0, 10))).map((e) => e.data)).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 4 },
      ]);
    });

    it('a nested unit undone after listing its own events: they are gone, the earlier ones stay', async () => {
      const t = task();
      await insert(t);
      const { heard } = hear();
      const ev = (n: number) => eventOf(t, 'task.updated', { n });
      const boom = new Error('boom');
      const listed = await store.write(async (tx) => {
        await tx.appendEvents([ev(1)]);
        expect((await tx.listEvents(ORG_A, 0, 10)).map((e) => e.data)).toEqual([{ n: 1 }]);
        await tx.appendEvents([ev(2)]);
        await expect(
          tx.nested(async () => {
            await tx.appendEvents([ev(3)]);
            expect((await tx.listEvents(ORG_A, 0, 10)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
            throw boom;
          }),
        ).rejects.toBe(boom);
        await tx.nested(async () => {
          await tx.appendEvents([ev(4)]);
          await tx.listEvents(ORG_A, 0, 10);
        });
        await tx.appendEvents([ev(5)]);
        return (await tx.listEvents(ORG_A, 0, 10)).map((e) => e.data);
      });
      const want = [1, 2, 4, 5].map((n) => ({ n }));
      expect(listed).toEqual(want);
      expect((await store.read((tx) => tx.listEvents(ORG_A, 0, 10))).map((e) => e.data)).toEqual(want);
      expect(heard).toEqual([[ev(1), ev(2), ev(4), ev(5)]]);
    });
  });
};
