/**
 * Long-poll claims: the only tests on wall time, with short waits, each measuring that the wake-up
 * comes well before the deadline.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, ORG_B } from '../../helpers/task-factory.js';
import { ids, type WorkerTopic } from './fixture.js';

export const longPollClaims: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, complete } = fx;

  describe('long-poll claims (wall time)', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    it('a waiting claim resolves with a task created while it waits, well before waitMs', async () => {
      const waitMs = 3_000;
      const started = performance.now();
      const waiting = claim({ waitMs });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const t = await create();
      const got = await waiting;
      const elapsed = performance.now() - started;
      expect(ids(got)).toEqual([t.id]);
      expect(got[0]?.status).toBe('in_progress');
      expect(elapsed).toBeLessThan(waitMs / 2);
    });

    it('a waiting claim ignores tasks of other types and other orgs, and answers [] when waitMs passes', async () => {
      const started = performance.now();
      const waiting = claim({ waitMs: 300 });
      await create({ type: 'other' });
      await create({}, ORG_B);
      expect(await waiting).toEqual([]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect((await services.insights.stats(ORG_B)).byStatus.queued).toBe(1);
    });

    it('a waiting claim held back by concurrency wakes when a slot frees', async () => {
      await services.types.put(ORG_A, 'job', { concurrency: 1 });
      const running = await claimById((await create()).id);
      const next = await create();
      const started = performance.now();
      const waiting = claim({ waitMs: 3_000, workerId: 'w2' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await complete(running);
      expect(ids(await waiting)).toEqual([next.id]);
      expect(performance.now() - started).toBeLessThan(1_500);
    });

    it('a waiting claim wakes by itself when a delayed task comes due', async () => {
      // runAt is on the store's clock; the claim's timer follows it (200 ms here).
      const t = await create({ delayMs: 200 });
      const started = performance.now();
      const waiting = claim({ waitMs: 3_000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      clock.advance(200);
      expect(ids(await waiting)).toEqual([t.id]);
      expect(performance.now() - started).toBeLessThan(1_500);
    });

    it('a waiting claim held back by the rate limit wakes when the window refills', async () => {
      await services.types.put(ORG_A, 'job', { rateLimit: { count: 1, perMs: 200 } });
      await create();
      const second = await create();
      await claimNext();
      const waitMs = 3_000;
      const started = performance.now();
      const waiting = claim({ waitMs, workerId: 'w2' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      clock.advance(200); // the window has room again
      expect(ids(await waiting)).toEqual([second.id]);
      // It should wake about perMs after the first claim, not sit out the whole wait.
      expect(performance.now() - started).toBeLessThan(waitMs / 2);
    });
  });
};
