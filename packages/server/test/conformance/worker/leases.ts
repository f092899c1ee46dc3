/**
 * Leases and fencing: a new lease per claim, stale leases changing nothing, heartbeats, batched
 * reports, cancel while held.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import type { Report } from '../../../src/service/worker-service.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { expectCode, leaseOf, type WorkerTopic } from './fixture.js';

export const leasesAndFencing: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, get, steps, sweep, complete } = fx;

  describe('leases and fencing', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ store, clock, services } = fx);
    });

    it('every claim makes a new lease id', async () => {
      const t = await create();
      const issued: string[] = [];
      for (let i = 0; i < 5; i++) {
        const held = await claimNext();
        issued.push(leaseOf(held));
        await services.workers.release(ORG_A, t.id, { leaseId: leaseOf(held) });
      }
      for (let i = 0; i < 5; i++) await create();
      const many = await claim({ limit: 10 });
      expect(many).toHaveLength(6);
      issued.push(...many.map(leaseOf));
      expect(new Set(issued).size).toBe(issued.length);
    });

    it('a stale lease id gets LEASE_LOST from every worker call and changes nothing', async () => {
      const t = await create({ leaseMs: 10_000 });
      const first = await claimNext();
      clock.advance(10_000);
      expect(await sweep()).toBe(1);
      const second = await claimNext({ workerId: 'w2' });
      expect(leaseOf(second)).not.toBe(leaseOf(first));
      const stale = leaseOf(first);
      const before = await get(t.id);
      const stepsBefore = await steps(t.id);

      const calls: Array<[string, () => Promise<unknown>]> = [
        [
          'heartbeat',
          () => services.workers.heartbeat(ORG_A, t.id, { leaseId: stale, progress: 0.9, steps: [{ message: 'x' }] }),
        ],
        ['complete', () => services.workers.complete(ORG_A, t.id, { leaseId: stale, result: 1 })],
        ['fail', () => services.workers.fail(ORG_A, t.id, { leaseId: stale, error: { message: 'late' } })],
        ['release', () => services.workers.release(ORG_A, t.id, { leaseId: stale })],
        ['appendSteps', () => services.tasks.appendSteps(ORG_A, t.id, [{ message: 'late step' }], stale)],
        ['appendSteps without lease', () => services.tasks.appendSteps(ORG_A, t.id, [{ message: 'no lease' }])],
        ['made-up lease', () => services.workers.complete(ORG_A, t.id, { leaseId: 'not-a-lease' })],
      ];
      for (const [label, call] of calls) {
        await expect(call(), label).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect(await get(t.id), label).toEqual(before);
      }
      expect(await steps(t.id)).toEqual(stepsBefore);
      expect(before).toMatchObject({ status: 'in_progress', version: second.version, lease: second.lease });
    });

    it('after the task is finished, its last lease gets LEASE_LOST', async () => {
      const held = await claimById((await create()).id);
      const done = await complete(held);
      await expectCode(services.workers.heartbeat(ORG_A, held.id, { leaseId: leaseOf(held) }), 'LEASE_LOST');
      await expectCode(services.workers.complete(ORG_A, held.id, { leaseId: leaseOf(held) }), 'LEASE_LOST');
      expect(await get(held.id)).toEqual(done);
    });

    it('batched reports: each applied on its own; a stale one fails alone', async () => {
      const [a, b, c] = [await create(), await create(), await create()];
      const ha = await claimById(a.id);
      const hb = await claimById(b.id);
      const hc = await claimById(c.id);
      const results = await services.workers.reports(ORG_A, [
        { taskId: a.id, action: 'complete', leaseId: leaseOf(ha), result: 'A' },
        { taskId: b.id, action: 'heartbeat', leaseId: 'stale', progress: 0.2 },
        { taskId: c.id, action: 'fail', leaseId: leaseOf(hc), error: { message: 'c broke' }, retryable: false },
        { taskId: b.id, action: 'release', leaseId: leaseOf(hb), delayMs: 1_000 },
      ]);
      expect(results.map((r) => (r.ok ? r.task.status : r.error.code))).toEqual([
        'completed',
        'LEASE_LOST',
        'failed',
        'queued',
      ]);
      expect((await get(b.id)).progress).toBeNull();
      expect(await get(a.id)).toMatchObject({ status: 'completed', result: 'A' });
    });

    it('batched reports on one task apply in order: heartbeat, then complete, then a late heartbeat is LEASE_LOST', async () => {
      const t = await create();
      const held = await claimNext();
      const leaseId = leaseOf(held);
      const results = await services.workers.reports(ORG_A, [
        { taskId: t.id, action: 'heartbeat', leaseId, progress: 0.5, steps: [{ message: 'half' }] },
        { taskId: t.id, action: 'complete', leaseId, result: 'done' },
        { taskId: t.id, action: 'heartbeat', leaseId, progress: 0.9 },
      ]);
      expect(results.map((r) => (r.ok ? r.task.status : r.error.code))).toEqual([
        'in_progress',
        'completed',
        'LEASE_LOST',
      ]);
      expect(await get(t.id)).toMatchObject({ status: 'completed', progress: 1, result: 'done' });
      expect((await steps(t.id)).map((s) => s.message)).toEqual(['half']);
    });

    it('batched reports end where the same reports made one by one end: records, steps and events', async () => {
      // Two identical setups: one reported in a batch, one call by call.
      const setup = async () => {
        const a = await create({ maxRetries: 2 });
        const b = await create();
        return { a: await claimById(a.id), b: await claimById(b.id) };
      };
      const batched = await setup();
      const single = await setup();
      const plan = (x: { a: Task; b: Task }): Report[] => [
        { taskId: x.a.id, action: 'heartbeat', leaseId: leaseOf(x.a), progress: 0.3, steps: [{ message: 's1' }] },
        { taskId: x.a.id, action: 'fail', leaseId: leaseOf(x.a), error: { code: 'E', message: 'once' } },
        { taskId: x.b.id, action: 'heartbeat', leaseId: leaseOf(x.b), progressMessage: 'b', extendMs: 5_000 },
        { taskId: x.b.id, action: 'complete', leaseId: leaseOf(x.b), result: { n: 1 } },
      ];
      const fromBatch = await services.workers.reports(ORG_A, plan(batched));
      const fromSingles: Array<{ ok: boolean; version: number; status: string }> = [];
      for (const r of plan(single)) {
        const view =
          r.action === 'heartbeat'
            ? await services.workers.heartbeat(ORG_A, r.taskId, r)
            : r.action === 'fail'
              ? await services.workers.fail(ORG_A, r.taskId, r)
              : r.action === 'complete'
                ? await services.workers.complete(ORG_A, r.taskId, r)
                : await services.workers.release(ORG_A, r.taskId, r);
        fromSingles.push({ ok: true, version: view.task.version, status: view.task.status });
      }
      expect(fromBatch.map((r) => (r.ok ? { ok: true, version: r.task.version, status: r.task.status } : r))).toEqual(
        fromSingles,
      );
      const comparable = (t: Task) => ({ ...t, id: '', runAt: null, createdAt: 0, queuedAt: 0, lease: null });
      expect(comparable(await get(batched.a.id))).toEqual(comparable(await get(single.a.id)));
      expect(comparable(await get(batched.b.id))).toEqual(comparable(await get(single.b.id)));
      expect(await steps(batched.a.id)).toEqual(await steps(single.a.id));
      const events = await store.read((tx) => tx.listEvents(ORG_A, 0, 10_000));
      const of = (id: string) => events.filter((e) => e.taskId === id).map((e) => [e.type, e.data]);
      expect(of(batched.a.id)).toEqual(of(single.a.id));
      expect(of(batched.b.id)).toEqual(of(single.b.id));
    });

    it('batched reports: a completion settles its dependents in the same unit; unknown refs are NOT_FOUND', async () => {
      await services.projects.create(ORG_A, { key: 'BAT', name: 'Batch' });
      const parent = await create({ projectId: 'BAT' });
      const child = await create({ dependsOn: [parent.id] });
      const held = await claimById(parent.id);
      const foreign = await create({}, ORG_B);
      const results = await services.workers.reports(ORG_A, [
        { taskId: 'BAT-999', action: 'heartbeat', leaseId: 'x' },
        { taskId: foreign.id, action: 'complete', leaseId: 'x' },
        { taskId: 'not a ref', action: 'complete', leaseId: 'x' },
        { taskId: held.identifier as string, action: 'complete', leaseId: leaseOf(held), result: 'ok' },
      ]);
      expect(results.map((r) => (r.ok ? r.task.status : r.error.code))).toEqual([
        'NOT_FOUND',
        'NOT_FOUND',
        'NOT_FOUND',
        'completed',
      ]);
      expect(child.status).toBe('blocked');
      expect(await get(child.id)).toMatchObject({ status: 'queued', blockedBy: [] });
      expect((await get(foreign.id, ORG_B)).status).toBe('queued');
    });

    it('heartbeat extends the lease by extendMs, else by leaseMs, and records progress and steps', async () => {
      const t = await create();
      const held = await claimNext({ leaseMs: 10_000 });
      clock.advance(6_000);
      const hb = await services.workers.heartbeat(ORG_A, t.id, {
        leaseId: leaseOf(held),
        progress: 0.25,
        progressMessage: '1 of 4',
        steps: [{ message: 'fetched', data: { rows: 10 } }, { message: 'parsed' }],
      });
      expect(hb.task.lease).toEqual({
        id: leaseOf(held),
        workerId: 'w1',
        expiresAt: T0 + 6_000 + 10_000,
        lengthMs: 10_000,
      });
      expect(hb.task).toMatchObject({ status: 'in_progress', progress: 0.25, progressMessage: '1 of 4', attempt: 1 });
      expect(hb.steps).toEqual([
        { time: T0 + 6_000, message: 'fetched', data: { rows: 10 } },
        { time: T0 + 6_000, message: 'parsed' },
      ]);

      clock.advance(1_000);
      const longer = await services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held), extendMs: 120_000 });
      expect(longer.task.lease?.expiresAt).toBe(T0 + 7_000 + 120_000);
      // Progress not given: kept.
      expect(longer.task).toMatchObject({ progress: 0.25, progressMessage: '1 of 4' });
      expect(longer.steps).toHaveLength(2);
      expect(await get(t.id)).toEqual(longer.task);
    });

    it('a heartbeat without extendMs renews the lease for the leaseMs the claim asked for', async () => {
      const t = await create({ leaseMs: 10_000 });
      const held = await claimNext({ leaseMs: 60_000 });
      expect(held.lease?.expiresAt).toBe(T0 + 60_000);
      clock.advance(30_000);
      const hb = await services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held) });
      // Heartbeating every 30 s on a 60 s lease must keep it: the renewal is the claim's 60 s.
      expect(hb.task.lease?.expiresAt).toBe(T0 + 30_000 + 60_000);
    });

    it("a claim's leaseMs does not become the task's leaseMs for later claims", async () => {
      const plain = await create({ type: 'plain' });
      expect(plain.leaseMs).toBeNull();
      const held = await claimById(plain.id, 'w1', 5_000);
      await services.workers.release(ORG_A, plain.id, { leaseId: leaseOf(held) });
      // The next worker asks for no particular lease: it gets the default 30 s, not w1's 5 s.
      const next = await claimById(plain.id, 'w2');
      expect(next.lease?.expiresAt).toBe(T0 + 30_000);
      expect(next.leaseMs).toBeNull();
    });

    it('canceled while held: the worker gets TASK_CANCELED on its next call, and nothing changes', async () => {
      const t = await create();
      const held = await claimNext();
      const canceled = (await services.tasks.action(ORG_A, t.id, 'cancel', { reason: 'no longer needed' })).task;
      expect(canceled).toMatchObject({ status: 'canceled', lease: null, completedAt: T0 });
      const leaseId = leaseOf(held);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['heartbeat', () => services.workers.heartbeat(ORG_A, t.id, { leaseId, progress: 0.5 })],
        ['complete', () => services.workers.complete(ORG_A, t.id, { leaseId })],
        ['fail', () => services.workers.fail(ORG_A, t.id, { leaseId, error: { message: 'x' } })],
        ['release', () => services.workers.release(ORG_A, t.id, { leaseId })],
        ['appendSteps', () => services.tasks.appendSteps(ORG_A, t.id, [{ message: 'x' }], leaseId)],
      ];
      for (const [label, call] of calls) {
        await expect(call(), label).rejects.toMatchObject({ code: 'TASK_CANCELED' });
        expect(await get(t.id), label).toEqual(canceled);
      }
    });
  });
};
