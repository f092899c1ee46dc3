/** Types and limits: a type's concurrency and rate limit, per org and type, and its defaults. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { expectCode, ids, type WorkerTopic } from './fixture.js';

export const typesAndLimits: WorkerTopic = (fx) => {
  const { create, claim, claimById, complete } = fx;

  describe('types', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    it('concurrency N: never more than N in progress of the type, whatever the claims', async () => {
      await services.types.put(ORG_A, 'job', { concurrency: 3 });
      for (let i = 0; i < 10; i++) await create();
      const free = [await create({ type: 'free' }), await create({ type: 'free' })];

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => claim({ workerId: `w${i}`, limit: i % 2 === 0 ? 1 : 4 })),
      );
      const claimed = results.flat();
      expect(claimed).toHaveLength(3);
      expect(new Set(ids(claimed)).size).toBe(3);
      const inProgress = async () => (await services.insights.stats(ORG_A)).byType.job?.in_progress;
      expect(await inProgress()).toBe(3);

      // A type that has room beside a full one: only the free one is handed out.
      expect(ids(await claim({ types: ['job', 'free'], limit: 10 })).sort()).toEqual(ids(free).sort());
      await expectCode(claimById((await listQueued())[0] ?? 'missing'), 'RATE_LIMITED');

      // One finishes: exactly one more may start.
      await complete(claimed[0] as Task);
      const refill = await Promise.all(Array.from({ length: 20 }, (_, i) => claim({ workerId: `v${i}`, limit: 2 })));
      expect(refill.flat()).toHaveLength(1);
      expect(await inProgress()).toBe(3);
    });

    const listQueued = async () =>
      (await services.tasks.list(ORG_A, { status: ['queued'], type: 'job' }, 10, undefined)).items.map(
        (v) => v.task.id,
      );

    it('rateLimit {count, perMs}: honoured, and refilled once the clock moves past perMs', async () => {
      await services.types.put(ORG_A, 'job', { rateLimit: { count: 2, perMs: 1_000 } });
      for (let i = 0; i < 10; i++) await create();
      const first = await claim({ limit: 10 });
      expect(first).toHaveLength(2);
      // Finishing work frees no rate: the window counts claims, not tasks in progress.
      for (const t of first) await complete(t);
      expect(await claim({ limit: 10 })).toEqual([]);
      await expectCode(claimById((await listQueued())[0] ?? 'missing'), 'RATE_LIMITED');
      clock.advance(999);
      expect(await claim({ limit: 10 })).toEqual([]);
      clock.advance(1);
      expect(await claim({ limit: 10 })).toHaveLength(2);
      clock.advance(500);
      expect(await claim({ limit: 10 })).toEqual([]);
      clock.advance(500);
      expect(await claimById((await listQueued())[0] ?? 'missing')).toMatchObject({ status: 'in_progress' });
      expect(await claim({ limit: 10 })).toHaveLength(1);
    });

    it('rate limits and concurrency are per org and per type', async () => {
      await services.types.put(ORG_A, 'job', { rateLimit: { count: 1, perMs: 60_000 }, concurrency: 1 });
      for (let i = 0; i < 3; i++) {
        await create();
        await create({}, ORG_B);
        await create({ type: 'other' });
      }
      expect(await claim({ limit: 10 })).toHaveLength(1);
      expect(await claim({ limit: 10 }, ORG_B)).toHaveLength(3);
      expect(await claim({ types: ['other'], limit: 10 })).toHaveLength(3);
    });

    it('type defaults (maxRetries, retryPolicy, leaseMs, timeoutMs, priority) are applied at create', async () => {
      const put = await services.types.put(ORG_A, 'report', {
        defaults: {
          maxRetries: 7,
          retryPolicy: { strategy: 'fixed', delayMs: 1_234, jitter: 'none' },
          leaseMs: 45_000,
          timeoutMs: 90_000,
          priority: 12,
        },
      });
      expect(await services.types.get(ORG_A, 'report')).toEqual(put);
      const t = await create({ type: 'report' });
      expect(t).toMatchObject({
        maxRetries: 7,
        retryPolicy: { strategy: 'fixed', delayMs: 1_234, maxDelayMs: 300_000, jitter: 'none' },
        leaseMs: 45_000,
        timeoutMs: 90_000,
        priority: 12,
      });
      // The request wins over the type's defaults, field by field.
      const own = await create({
        type: 'report',
        maxRetries: 1,
        priority: -1,
        retryPolicy: { delayMs: 5 },
        leaseMs: 2_000,
      });
      expect(own).toMatchObject({
        maxRetries: 1,
        priority: -1,
        leaseMs: 2_000,
        timeoutMs: 90_000,
        retryPolicy: { strategy: 'fixed', delayMs: 5, jitter: 'none' },
      });
      // Another org's type of the same name, and tasks made before the settings, are untouched.
      expect(await create({ type: 'report' }, ORG_B)).toMatchObject({ maxRetries: 3, priority: 0, leaseMs: null });
      // The lease of a claim comes from the task's leaseMs when the worker names none.
      const held = await services.workers.claimOne(ORG_A, t.id, { workerId: 'w' });
      expect(held.task.lease?.expiresAt).toBe(T0 + 45_000);
      expect(held.task.timeoutAt).toBe(T0 + 90_000);
    });

    it('types.put replaces the settings; get answers NOT_FOUND for an unknown type; list is per org', async () => {
      await services.types.put(ORG_A, 'a', { concurrency: 2, defaults: { priority: 3 } });
      const replaced = await services.types.put(ORG_A, 'a', { rateLimit: { count: 1, perMs: 1_000 } });
      expect(replaced).toMatchObject({ concurrency: null, rateLimit: { count: 1, perMs: 1_000 }, defaults: {} });
      expect(await services.types.get(ORG_A, 'a')).toEqual(replaced);
      await services.types.put(ORG_B, 'b', {});
      await expectCode(services.types.get(ORG_A, 'b'), 'NOT_FOUND');
      expect((await services.types.list(ORG_A)).map((c) => c.type)).toEqual(['a']);
    });
  });
};
