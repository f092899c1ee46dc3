/** Claims (SPEC §5): claim order, what a claim sets, what is visible to it, claimOne. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { expectCode, ids, iso, leaseOf, type WorkerTopic } from './fixture.js';

export const claimOrderAndVisibility: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, get, complete } = fx;

  describe('claim order and visibility', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    it('priority descending, then runAt/queuedAt, then id', async () => {
      const a = await create({ title: 'a' }); // queued at T0
      clock.advance(10);
      const scheduled = await create({ title: 'scheduled', runAt: iso(T0 - 1) }); // runAt before a's queuedAt
      const d = await create({ title: 'd' });
      const e = await create({ title: 'e' }); // same queuedAt as d: id decides
      const urgent = await create({ title: 'urgent', priority: 5 });
      const low = await create({ title: 'low', priority: -3 });
      clock.advance(10);

      const order = ids([urgent, scheduled, a, d, e, low]);
      // One claim of many, and claims one at a time, agree on the order.
      expect(ids(await claim({ limit: 3 }))).toEqual(order.slice(0, 3));
      const rest: string[] = [];
      for (let i = 0; i < 3; i++) rest.push((await claimNext()).id);
      expect(rest).toEqual(order.slice(3));
      expect(await claim()).toEqual([]);
    });

    it('a claim sets attempt, pollCount, startedAt, assignee and a lease (default 30 s)', async () => {
      const t = await create();
      clock.advance(500);
      const claimed = await claimNext({ workerId: 'worker-7' });
      expect(claimed).toMatchObject({
        id: t.id,
        status: 'in_progress',
        attempt: 1,
        pollCount: 1,
        startedAt: T0 + 500,
        assignee: 'worker-7',
        runAt: null,
        version: t.version + 1,
      });
      expect(claimed.lease).toEqual({
        id: expect.any(String),
        workerId: 'worker-7',
        expiresAt: T0 + 500 + 30_000,
        lengthMs: 30_000,
      });
      expect(await get(t.id)).toEqual(claimed);

      // Released and claimed again: attempt and pollCount go on, startedAt stays the first claim's.
      await services.workers.release(ORG_A, t.id, { leaseId: leaseOf(claimed) });
      clock.advance(500);
      const again = await claimNext({ workerId: 'worker-8', leaseMs: 5_000 });
      expect(again).toMatchObject({ attempt: 2, pollCount: 2, startedAt: T0 + 500, assignee: 'worker-8' });
      expect(again.lease?.expiresAt).toBe(T0 + 1_000 + 5_000);
    });

    it('a task with runAt in the future is invisible until the clock reaches it', async () => {
      const t = await create({ delayMs: 5_000 });
      expect(t).toMatchObject({ status: 'queued', runAt: T0 + 5_000 });
      expect(await claim()).toEqual([]);
      await expectCode(claimById(t.id), 'INVALID_TRANSITION');
      clock.advance(4_999);
      expect(await claim()).toEqual([]);
      clock.advance(1);
      expect(ids(await claim())).toEqual([t.id]);
    });

    it('limit caps one claim; nothing is handed out twice', async () => {
      const all = [];
      for (let i = 0; i < 5; i++) all.push(await create());
      const first = await claim({ limit: 3 });
      const second = await claim({ limit: 3 });
      expect(first).toHaveLength(3);
      expect(second).toHaveLength(2);
      expect([...ids(first), ...ids(second)].sort()).toEqual(ids(all).sort());
      expect(await claim({ limit: 3 })).toEqual([]);
    });

    it('types filter: only tasks of the named types', async () => {
      const email = await create({ type: 'email.send' });
      const pdf = await create({ type: 'pdf.render' });
      const other = await create({ type: 'other' });
      const got = await claim({ types: ['email.send', 'pdf.render', 'email.send'], limit: 10 });
      expect(ids(got).sort()).toEqual(ids([email, pdf]).sort());
      expect((await get(other.id)).status).toBe('queued');
      expect(await claim({ types: ['nothing'], limit: 10 })).toEqual([]);
    });

    it('org isolation: a claim never sees another org; its ids answer NOT_FOUND', async () => {
      const foreign = await create({}, ORG_B);
      expect(await claim({ limit: 10 })).toEqual([]);
      await expectCode(services.workers.claimOne(ORG_A, foreign.id, { workerId: 'w1' }), 'NOT_FOUND');
      const held = (await claim({}, ORG_B))[0];
      expect(held?.id).toBe(foreign.id);
      const leaseId = leaseOf(held as Task);
      await expectCode(services.workers.heartbeat(ORG_A, foreign.id, { leaseId }), 'NOT_FOUND');
      await expectCode(services.workers.complete(ORG_A, foreign.id, { leaseId }), 'NOT_FOUND');
      expect((await get(foreign.id, ORG_B)).status).toBe('in_progress');
    });

    it('claimOne by id and by project identifier', async () => {
      await services.projects.create(ORG_A, { key: 'OPS', name: 'Ops' });
      const first = await create({ projectId: 'OPS' });
      const second = await create({ projectId: 'OPS' });
      expect([first.identifier, second.identifier]).toEqual(['OPS-1', 'OPS-2']);

      // Not the head of the queue: claimOne takes exactly the task it names.
      const byIdentifier = await claimById('OPS-2', 'agent');
      expect(byIdentifier).toMatchObject({ id: second.id, status: 'in_progress', attempt: 1, assignee: 'agent' });
      const byId = await claimById(first.id, 'agent', 60_000);
      expect(byId).toMatchObject({ id: first.id, status: 'in_progress' });
      expect(byId.lease?.expiresAt).toBe(T0 + 60_000);
      // The identifier works for the worker calls too.
      const hb = await services.workers.heartbeat(ORG_A, 'OPS-2', { leaseId: leaseOf(byIdentifier), progress: 0.5 });
      expect(hb.task.progress).toBe(0.5);
    });

    it('claimOne of a task that is not queued answers INVALID_TRANSITION and changes nothing', async () => {
      const held = await create();
      await claimById(held.id);
      const backlog = await create({ start: false });
      const blocked = await create({ dependsOn: [held.id] });
      const done = await create();
      await complete(await claimById(done.id));
      const review = await create({ requiresReview: true });
      await complete(await claimById(review.id));
      const canceled = await create();
      await services.tasks.action(ORG_A, canceled.id, 'cancel', {});

      for (const t of [held, backlog, blocked, done, review, canceled]) {
        const before = await get(t.id);
        await expectCode(claimById(t.id, 'w2'), 'INVALID_TRANSITION');
        expect(await get(t.id)).toEqual(before);
      }
    });
  });
};
