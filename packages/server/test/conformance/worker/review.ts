/** Review: needs_review, approve, reject (requeued or failed). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';
import { expectCode, leaseOf, type WorkerTopic } from './fixture.js';

export const review: WorkerTopic = (fx) => {
  const { create, claimNext, claimById, complete } = fx;

  describe('review', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    it('requiresReview: complete → needs_review with the result; approve → completed', async () => {
      const t = await create({ requiresReview: true });
      const held = await claimNext();
      const reviewed = await complete(held, { draft: 'v1' });
      expect(reviewed).toMatchObject({
        status: 'needs_review',
        result: { draft: 'v1' },
        lease: null,
        completedAt: null,
      });
      await expectCode(services.workers.heartbeat(ORG_A, t.id, { leaseId: leaseOf(held) }), 'LEASE_LOST');
      await expectCode(claimById(t.id), 'INVALID_TRANSITION');
      clock.advance(1_000);
      const approved = (await services.tasks.action(ORG_A, t.id, 'approve', {})).task;
      expect(approved).toMatchObject({ status: 'completed', result: { draft: 'v1' }, completedAt: T0 + 1_000 });
    });

    it('complete {review: true} asks for review on a task that does not require it', async () => {
      const t = await create();
      const held = await claimNext();
      const view = await services.workers.complete(ORG_A, t.id, { leaseId: leaseOf(held), result: 7, review: true });
      expect(view.task).toMatchObject({ status: 'needs_review', result: 7 });
    });

    it('reject {requeue: true} → queued, attempt and retries unchanged, the reason a step', async () => {
      const t = await create({ requiresReview: true, maxRetries: 0 });
      await complete(await claimNext());
      clock.advance(500);
      const view = await services.tasks.action(ORG_A, t.id, 'reject', { requeue: true, reason: 'missing tests' });
      expect(view.task).toMatchObject({
        status: 'queued',
        attempt: 1,
        retryCount: 0,
        runAt: null,
        queuedAt: T0 + 500,
      });
      expect(view.steps.map((s) => s.message)).toEqual(['reject: missing tests']);
      expect(await claimNext()).toMatchObject({ id: t.id, attempt: 2 });
    });

    it('reject → failed with REJECTED', async () => {
      const t = await create({ requiresReview: true });
      await complete(await claimNext());
      const view = await services.tasks.action(ORG_A, t.id, 'reject', { reason: 'wrong' });
      expect(view.task).toMatchObject({
        status: 'failed',
        error: { code: 'REJECTED', message: 'wrong', retryable: false },
      });
      await expectCode(services.tasks.action(ORG_A, t.id, 'approve', {}), 'INVALID_TRANSITION');
    });

    it('approve or reject a task that is not in review → INVALID_TRANSITION', async () => {
      const t = await create();
      await claimNext();
      await expectCode(services.tasks.action(ORG_A, t.id, 'approve', {}), 'INVALID_TRANSITION');
      await expectCode(services.tasks.action(ORG_A, t.id, 'reject', { requeue: true }), 'INVALID_TRANSITION');
    });
  });
};
