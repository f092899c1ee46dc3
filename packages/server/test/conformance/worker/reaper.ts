/** The reaper: terminal tasks deleted once their retention passed. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import { createServices, type Services } from '../../../src/service/services.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';
import { expectCode, leaseOf, type WorkerTopic } from './fixture.js';

export const reaper: WorkerTopic = (fx) => {
  const { create, claimNext, claimById, get, complete } = fx;

  describe('reaper', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ store, clock, services } = fx);
    });

    it('a terminal task with ttlSeconds is deleted, with its steps, once expiresAt passes', async () => {
      const t = await create({ ttlSeconds: 60 });
      const held = await claimNext();
      await services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held), steps: [{ message: 'working' }] });
      clock.advance(1_000);
      const done = await complete(held);
      expect(done.expiresAt).toBe(T0 + 1_000 + 60_000);
      const keeper = await create(); // active: never reaped
      const defaultTtl = await create();
      await complete(await claimById(defaultTtl.id));

      clock.advance(59_999);
      expect(await services.maintenance.reapOnce()).toBe(0);
      expect((await get(t.id)).status).toBe('completed');
      clock.advance(1);
      expect(await services.maintenance.reapOnce()).toBe(1);
      await expectCode(services.tasks.get(ORG_A, t.id), 'NOT_FOUND');
      expect(await store.read((tx) => tx.getSteps(ORG_A, t.id))).toEqual([]);
      expect((await get(keeper.id)).status).toBe('queued');
      expect((await get(defaultTtl.id)).status).toBe('completed');
      // The default retention: 30 days.
      clock.advance(30 * 24 * 3600 * 1000);
      expect(await services.maintenance.reapOnce()).toBe(1);
      await expectCode(services.tasks.get(ORG_A, defaultTtl.id), 'NOT_FOUND');
      expect((await get(keeper.id)).status).toBe('queued');
    });

    it('reapOnce works through more expired tasks than one batch', async () => {
      const maintenance = createServices(store, { clock, maintenance: { batch: 3 } }).maintenance;
      for (let i = 0; i < 7; i++) {
        const t = await create({ ttlSeconds: 1 });
        await services.tasks.action(ORG_A, t.id, 'cancel', {});
      }
      clock.advance(1_000);
      expect(await maintenance.reapOnce()).toBe(7);
      expect((await services.insights.stats(ORG_A)).total).toBe(0);
    });
  });
};
