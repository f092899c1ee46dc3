/**
 * Units of work: all or nothing, isolation, nested units (savepoints), the unit clock, and
 * serializable writes.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { TaskChange, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, T0, eventOf } from '../../helpers/task-factory.js';
import { byId, deferred, ids, increment, type StoreTopic } from './fixture.js';

export const unitsOfWork: StoreTopic = (fx) => {
  const { task, insert, get, key, project } = fx;

  describe('units of work', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

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
          await tx.appendEvents([eventOf(kept, 'task.updated')]);
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

  describe('nested units', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('nested: what returns joins the unit; what throws is undone (and not announced), the unit goes on', async () => {
      const [kept, undone, after] = [task(), task(), task()];
      const changes: TaskChange[] = [];
      store.subscribe((c) => changes.push(c));
      const boom = new Error('inner');
      const result = await store.write(async (tx) => {
        const inner = await tx.nested(async () => {
          await tx.insertTasks([kept]);
          await tx.appendSteps(ORG_A, kept.id, [{ time: T0, message: 'kept' }]);
          return 'inner result';
        });
        await expect(
          tx.nested(async () => {
            await tx.insertTasks([undone]);
            expect(await tx.updateTask({ ...kept, version: 2, title: 'undone' })).toBe(true);
            await tx.appendSteps(ORG_A, kept.id, [{ time: T0, message: 'undone' }]);
            await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
            await tx.appendEvents([eventOf(kept, 'task.updated')]);
            expect(await tx.getTask(ORG_A, undone.id)).toEqual(undone); // visible inside
            throw boom;
          }),
        ).rejects.toBe(boom);
        // Undone at once, inside the unit.
        expect(await tx.getTask(ORG_A, undone.id)).toBeNull();
        expect(await tx.getTask(ORG_A, kept.id)).toEqual(kept);
        await tx.insertTasks([after]);
        return inner;
      });
      expect(result).toBe('inner result');
      await store.read(async (tx) => {
        expect(ids(await tx.getTasks(ORG_A, ids([kept, undone, after]))).sort()).toEqual(ids([kept, after]).sort());
        expect(await tx.getTask(ORG_A, kept.id)).toEqual(kept);
        expect(await tx.getSteps(ORG_A, kept.id)).toEqual([{ time: T0, message: 'kept' }]);
        expect(await tx.countClaims(ORG_A, 0)).toBe(0);
        expect(await tx.listEvents(ORG_A, 0, 100)).toEqual([]);
      });
      expect(changes.map((c) => [c.taskId, c.version]).sort()).toEqual(
        [
          [kept.id, 1],
          [after.id, 1],
        ].sort(),
      );
    });

    it('nested units nest; a unit that throws undoes its nested units too', async () => {
      const [outer, inner, innermost] = [task(), task(), task()];
      await store.write(async (tx) => {
        await tx.nested(async () => {
          await tx.insertTasks([outer]);
          await tx.nested(async () => {
            await tx.insertTasks([inner]);
            await tx.nested(async () => tx.insertTasks([innermost])).then(() => undefined);
          });
          // An inner failure after a committed nested unit undoes only itself.
          await tx
            .nested(async () => {
              throw new Error('x');
            })
            .catch(() => undefined);
        });
      });
      expect(await store.read((tx) => tx.getTasks(ORG_A, ids([outer, inner, innermost])))).toHaveLength(3);

      const doomed = task();
      await expect(
        store.write(async (tx) => {
          await tx.nested(() => tx.insertTasks([doomed]));
          throw new Error('outer');
        }),
      ).rejects.toThrow('outer');
      expect(await store.read((tx) => tx.getTask(ORG_A, doomed.id))).toBeNull();
    });
  });

  describe('clock', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    it('tx.now is clock.now() at the start of the unit, and stays for the whole unit', async () => {
      const t = task();
      await insert(t);
      clock.set(T0 + 12_345);
      const seen = await store.write(async (tx) => {
        const atStart = tx.now;
        clock.advance(5_000);
        await tx.appendEvents([eventOf(t, 'task.created')]);
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
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('20 concurrent write units incrementing one counter all succeed (serializable)', async () => {
      const counter = task();
      await insert(counter);
      const results = await Promise.all(Array.from({ length: 20 }, () => increment(store, ORG_A, counter.id)));
      expect(results).toEqual(Array.from({ length: 20 }, () => true));
      expect((await get(ORG_A, counter.id))?.version).toBe(21);
    });
  });
};
