/** The sweeper's query (overdue tasks) and the reaper's deletions, across orgs. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, eventOf } from '../../helpers/task-factory.js';
import { ids, type StoreTopic } from './fixture.js';

export const sweeperAndReaper: StoreTopic = (fx) => {
  const { task, inStatus, insert } = fx;

  describe('sweeper and reaper', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    it('overdueTasks: in-progress tasks of every org whose lease expired or timeout passed', async () => {
      clock.set(T0 + 10_000);
      const lease = (expiresAt: number) => ({ id: `lease-${expiresAt}`, workerId: 'w', expiresAt, lengthMs: 30_000 });
      const expired = inStatus('in_progress', { lease: lease(T0 + 9_999), timeoutAt: null });
      const expiresNow = inStatus('in_progress', { lease: lease(T0 + 10_000), timeoutAt: null });
      const timedOut = inStatus('in_progress', { lease: lease(T0 + 60_000), timeoutAt: T0 + 10_000 });
      const foreign = inStatus('in_progress', { orgId: ORG_B, lease: lease(T0 + 1), timeoutAt: null });
      const healthy = inStatus('in_progress', { lease: lease(T0 + 10_001), timeoutAt: T0 + 10_001 });
      // Leftover deadlines on tasks that are no longer in progress never count.
      const queued = inStatus('queued', { lease: lease(T0 + 1), timeoutAt: T0 + 1 });
      const review = inStatus('needs_review', { timeoutAt: T0 + 1 });
      await insert(expired, expiresNow, timedOut, foreign, healthy, queued, review);

      const overdue = await store.read((tx) => tx.overdueTasks(100));
      const byTask = new Map(overdue.map((o) => [o.taskId, o]));
      expect([...byTask.keys()].sort()).toEqual(ids([expired, expiresNow, timedOut, foreign]).sort());
      expect(byTask.get(expired.id)).toEqual({ orgId: ORG_A, taskId: expired.id, reason: 'lease_expired' });
      expect(byTask.get(timedOut.id)).toEqual({ orgId: ORG_A, taskId: timedOut.id, reason: 'timeout' });
      expect(byTask.get(foreign.id)).toEqual({ orgId: ORG_B, taskId: foreign.id, reason: 'lease_expired' });
      expect(await store.read((tx) => tx.overdueTasks(2))).toHaveLength(2);
    });

    it('reap deletes tasks whose expiresAt passed, with their steps, across orgs; keeps the rest', async () => {
      clock.set(T0 + 100_000);
      const gone = inStatus('completed', { expiresAt: T0 + 99_000 });
      const goneNow = inStatus('failed', { expiresAt: T0 + 100_000 });
      const goneB = inStatus('canceled', { orgId: ORG_B, expiresAt: T0 + 1 });
      const kept = inStatus('completed', { expiresAt: T0 + 100_001 });
      const active = inStatus('queued');
      await insert(gone, goneNow, goneB, kept, active);
      await store.write(async (tx) => {
        for (const t of [gone, kept]) await tx.appendSteps(t.orgId, t.id, [{ time: T0, message: `step of ${t.id}` }]);
      });

      const cutoffs = { eventsBefore: 0, idempotencyBefore: 0, claimsBefore: 0 };
      expect(await store.write((tx) => tx.reap(100, cutoffs))).toBe(3);
      await store.read(async (tx) => {
        expect(await tx.getTasks(ORG_A, ids([gone, goneNow, kept, active])).then((ts) => ids(ts).sort())).toEqual(
          ids([kept, active]).sort(),
        );
        expect(await tx.getTask(ORG_B, goneB.id)).toBeNull();
        expect(await tx.getSteps(ORG_A, gone.id)).toEqual([]);
        expect(await tx.getSteps(ORG_A, kept.id)).toEqual([{ time: T0, message: `step of ${kept.id}` }]);
      });
      expect(await store.write((tx) => tx.reap(100, cutoffs))).toBe(0);
    });

    it('reap is bounded by limit and returns how many tasks went', async () => {
      clock.set(T0 + 10_000);
      const expired = Array.from({ length: 5 }, () => inStatus('completed', { expiresAt: T0 + 1 }));
      await insert(...expired);
      const cutoffs = { eventsBefore: 0, idempotencyBefore: 0, claimsBefore: 0 };
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) counts.push(await store.write((tx) => tx.reap(2, cutoffs)));
      expect(counts).toEqual([2, 2, 1, 0]);
      expect(await store.read((tx) => tx.getTasks(ORG_A, ids(expired)))).toEqual([]);
    });

    it('reap deletes events, idempotency records and claim log rows older than their cutoffs', async () => {
      const t = task();
      await insert(t);
      const event = eventOf(t, 'task.updated');
      for (const at of [T0 + 100, T0 + 200, T0 + 300]) {
        clock.set(at);
        await store.write(async (tx) => {
          await tx.appendEvents([event, { ...event, orgId: ORG_B }]);
          await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
          await tx.putIdempotency({ orgId: ORG_A, key: `k${at}`, requestHash: 'h', taskIds: [t.id], createdAt: at });
        });
      }
      clock.set(T0 + 1_000);
      const reaped = await store.write((tx) =>
        tx.reap(100, { eventsBefore: T0 + 200, idempotencyBefore: T0 + 300, claimsBefore: T0 + 201 }),
      );
      expect(reaped).toBe(0);
      await store.read(async (tx) => {
        // "Older than" the cutoff: a row made exactly at it stays.
        expect((await tx.listEvents(ORG_A, 0, 100)).map((e) => e.time)).toEqual([T0 + 200, T0 + 300]);
        expect((await tx.listEvents(ORG_B, 0, 100)).map((e) => e.time)).toEqual([T0 + 200, T0 + 300]);
        expect(await tx.getIdempotency(ORG_A, `k${T0 + 100}`, 0)).toBeNull();
        expect(await tx.getIdempotency(ORG_A, `k${T0 + 200}`, 0)).toBeNull();
        expect(await tx.getIdempotency(ORG_A, `k${T0 + 300}`, 0)).not.toBeNull();
        expect(await tx.countClaims(ORG_A, 0)).toBe(1);
        expect(await tx.getTask(ORG_A, t.id)).toEqual(t);
      });
    });
  });
};
