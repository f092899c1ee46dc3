/** The sweeper: expired leases and timeouts settled once, whatever else fails. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Services } from '../../../src/service/services.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { ids, leaseOf, noJitter, type WorkerTopic } from './fixture.js';

export const sweeper: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, get, sweep, complete } = fx;

  describe('sweeper', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ store, clock, services } = fx);
    });

    it('an expired lease goes back to the queue at once: retry spent, LEASE_EXPIRED, runAt null', async () => {
      const t = await create({ retryPolicy: noJitter('fixed', 60_000) });
      const held = await claimNext({ leaseMs: 10_000 });
      clock.advance(9_999);
      expect(await sweep()).toBe(0);
      expect(await get(t.id)).toEqual(held);
      clock.advance(1);
      expect(await sweep()).toBe(1);
      const swept = await get(t.id);
      expect(swept).toMatchObject({
        status: 'queued',
        attempt: 1,
        retryCount: 1,
        runAt: null,
        lease: null,
        queuedAt: T0 + 10_000,
        error: { code: 'LEASE_EXPIRED', retryable: true },
        version: held.version + 1,
      });
      // Claimable again right away, as attempt 2.
      expect(await claimNext({ workerId: 'w2' })).toMatchObject({ id: t.id, attempt: 2, retryCount: 1 });
    });

    it('an expired lease with no retries left fails the task', async () => {
      const t = await create({ maxRetries: 1 });
      await claimNext({ leaseMs: 5_000 });
      clock.advance(5_000);
      expect(await sweep()).toBe(1);
      await claimNext({ leaseMs: 5_000 });
      clock.advance(5_000);
      expect(await sweep()).toBe(1);
      expect(await get(t.id)).toMatchObject({
        status: 'failed',
        attempt: 2,
        retryCount: 1,
        error: { code: 'LEASE_EXPIRED' },
        completedAt: T0 + 10_000,
        lease: null,
      });
    });

    it('timeoutMs passing is a retryable TIMED_OUT failure, with backoff', async () => {
      const t = await create({ timeoutMs: 5_000, leaseMs: 60_000, retryPolicy: noJitter('fixed', 2_000) });
      const held = await claimNext();
      clock.advance(3_000);
      // Heartbeats extend the lease, not the attempt's time.
      await services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held) });
      clock.advance(1_999);
      expect(await sweep()).toBe(0);
      clock.advance(1);
      expect(await sweep()).toBe(1);
      expect(await get(t.id)).toMatchObject({
        status: 'queued',
        retryCount: 1,
        runAt: T0 + 5_000 + 2_000,
        lease: null,
        error: { code: 'TIMED_OUT', retryable: true },
      });
      expect(await claim()).toEqual([]);
      clock.advance(2_000);
      expect(ids(await claim())).toEqual([t.id]);
    });

    it('a timeout with no retries left fails the task with TIMED_OUT', async () => {
      const t = await create({ timeoutMs: 1_000, maxRetries: 0 });
      await claimNext({ leaseMs: 60_000 });
      clock.advance(1_000);
      expect(await sweep()).toBe(1);
      expect(await get(t.id)).toMatchObject({ status: 'failed', error: { code: 'TIMED_OUT' }, retryCount: 0 });
    });

    it('a lease extended in time is never swept', async () => {
      const t = await create();
      const held = await claimNext({ leaseMs: 10_000 });
      for (let i = 0; i < 5; i++) {
        clock.advance(9_000);
        await services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held) });
        expect(await sweep()).toBe(0);
      }
      // Well past the first lease's end: still held by the same lease.
      expect(await get(t.id)).toMatchObject({ status: 'in_progress', lease: { id: leaseOf(held) }, retryCount: 0 });
      await complete(held);
    });

    it('sweeping twice (even at once) settles a task once', async () => {
      const expired = [await create(), await create(), await create()];
      for (const t of expired) await claimById(t.id, 'w1', 5_000);
      clock.advance(5_000);
      const counts = await Promise.all([sweep(), sweep(), sweep()]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
      expect(await sweep()).toBe(0);
      for (const t of expired) expect(await get(t.id)).toMatchObject({ status: 'queued', retryCount: 1 });
      const events = await sutEvents();
      const expiries = events.filter((e) => (e.data as { cause?: string } | null)?.cause === 'lease_expired');
      expect(expiries).toHaveLength(3);
    });

    it('one task the sweeper cannot settle does not stop it settling the others', async () => {
      // The diamond of the dependency tests: expiring A's last lease cancels B and C, which today throws CONFLICT.
      const a = await create({ maxRetries: 0 });
      const b = await create({ dependsOn: [a.id] });
      await create({ dependsOn: [a.id, b.id] });
      const other = await create();
      await claimById(a.id, 'w1', 1_000);
      await claimById(other.id, 'w2', 1_000);
      clock.advance(1_000);
      const outcome = await sweep().then(
        (n) => `settled ${n}`,
        (err: { code?: string }) => `rejected with ${err.code ?? String(err)}`,
      );
      expect({ outcome, other: (await get(other.id)).status }).toEqual({
        outcome: expect.stringMatching(/^settled/),
        other: 'queued',
      });
    });

    it('only in-progress tasks are swept; every org is', async () => {
      const a = await create({}, ORG_A);
      const b = await create({}, ORG_B);
      await services.workers.claim(ORG_A, { types: ['job'], workerId: 'w', limit: 1, waitMs: 0, leaseMs: 1_000 });
      await services.workers.claim(ORG_B, { types: ['job'], workerId: 'w', limit: 1, waitMs: 0, leaseMs: 1_000 });
      const queued = await create();
      clock.advance(1_000);
      expect(await sweep()).toBe(2);
      expect((await get(a.id)).error?.code).toBe('LEASE_EXPIRED');
      expect((await get(b.id, ORG_B)).error?.code).toBe('LEASE_EXPIRED');
      expect((await get(queued.id)).error).toBeNull();
    });

    const sutEvents = () => store.read((tx) => tx.listEvents(ORG_A, 0, 10_000));
  });
};
