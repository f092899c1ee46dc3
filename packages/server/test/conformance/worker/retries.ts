/** Retries: backoff policies and jitter, retryable or not, exhaustion, release, manual retry. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { RetryPolicy } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';
import { expectCode, leaseOf, noJitter, type WorkerTopic } from './fixture.js';

export const retries: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, get, claimWhenDue, fail } = fx;

  describe('retries', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    /** Fail the task `times` times (claiming it when due) and return runAt - now after each. */
    const delaysOf = async (policy: RetryPolicy, times: number, maxRetries = 10): Promise<number[]> => {
      const t = await create({ retryPolicy: policy, maxRetries });
      const delays: number[] = [];
      for (let i = 0; i < times; i++) {
        const failed = await fail(await claimWhenDue(t.id));
        expect(failed).toMatchObject({ status: 'queued', retryCount: i + 1, attempt: i + 1 });
        delays.push((failed.runAt ?? clock.now()) - clock.now());
      }
      return delays;
    };

    it('fixed, linear and exponential delays with jitter none, capped by maxDelayMs', async () => {
      expect(await delaysOf(noJitter('fixed', 1_500), 4)).toEqual([1_500, 1_500, 1_500, 1_500]);
      expect(await delaysOf(noJitter('linear', 1_000), 4)).toEqual([1_000, 2_000, 3_000, 4_000]);
      expect(await delaysOf(noJitter('exponential', 1_000), 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
      expect(await delaysOf(noJitter('exponential', 1_000, 5_000), 5)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
      expect(await delaysOf(noJitter('linear', 1_000, 2_500), 4)).toEqual([1_000, 2_000, 2_500, 2_500]);
    });

    it('full jitter draws within [0, delay]; the default policy is exponential 1 s with full jitter', async () => {
      const jittered = await delaysOf({ ...noJitter('exponential', 1_000), jitter: 'full' }, 5);
      jittered.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1_000 * 2 ** i);
      });
      const t = await create();
      expect(t.retryPolicy).toEqual({ strategy: 'exponential', delayMs: 1_000, maxDelayMs: 300_000, jitter: 'full' });
      expect(t.maxRetries).toBe(3);
    });

    it('a fail records the error; retryAfterMs overrides the policy', async () => {
      const t = await create({ retryPolicy: noJitter('fixed', 1_000) });
      const held = await claimNext();
      clock.advance(100);
      const failed = (
        await services.workers.fail(ORG_A, t.id, {
          leaseId: leaseOf(held),
          error: { code: 'UPSTREAM_429', message: 'slow down', details: { retryIn: 'later' } },
          retryAfterMs: 45_000,
        })
      ).task;
      expect(failed).toMatchObject({
        status: 'queued',
        runAt: T0 + 100 + 45_000,
        retryCount: 1,
        lease: null,
        error: { code: 'UPSTREAM_429', message: 'slow down', details: { retryIn: 'later' }, retryable: true },
      });
      // No code given: TASK_FAILED.
      expect((await fail(await claimWhenDue(t.id))).error).toEqual({
        code: 'TASK_FAILED',
        message: 'boom',
        retryable: true,
      });
    });

    it('retryable: false fails at once, retries left or not', async () => {
      const t = await create({ maxRetries: 5 });
      const failed = await fail(await claimNext(), { retryable: false }, 'bad input');
      expect(failed).toMatchObject({
        status: 'failed',
        retryCount: 0,
        completedAt: T0,
        runAt: null,
        error: { code: 'TASK_FAILED', message: 'bad input', retryable: false },
      });
      expect(await get(t.id)).toEqual(failed);
    });

    it('retries exhausted: failed with the last error', async () => {
      const t = await create({ maxRetries: 2, retryPolicy: noJitter('fixed', 10) });
      for (let i = 1; i <= 2; i++) expect((await fail(await claimWhenDue(t.id), {}, `try ${i}`)).status).toBe('queued');
      const last = await fail(await claimWhenDue(t.id), {}, 'try 3');
      expect(last).toMatchObject({
        status: 'failed',
        attempt: 3,
        retryCount: 2,
        error: { message: 'try 3', retryable: true },
        completedAt: clock.now(),
      });
    });

    it('release: queued again without spending a retry, runAt = now + delayMs', async () => {
      const t = await create({ maxRetries: 0 });
      const held = await claimNext();
      clock.advance(1_000);
      const released = (await services.workers.release(ORG_A, t.id, { leaseId: leaseOf(held), delayMs: 3_000 })).task;
      expect(released).toMatchObject({
        status: 'queued',
        retryCount: 0,
        attempt: 1,
        runAt: T0 + 4_000,
        lease: null,
        error: null,
      });
      clock.advance(2_999);
      expect(await claim()).toEqual([]);
      clock.advance(1);
      const again = await claimNext();
      expect(again).toMatchObject({ attempt: 2, retryCount: 0 });
      // No delay: claimable at once. maxRetries 0 is untouched by releases.
      await services.workers.release(ORG_A, t.id, { leaseId: leaseOf(again) });
      expect(await get(t.id)).toMatchObject({ status: 'queued', runAt: null });
      expect(await claimNext()).toMatchObject({ attempt: 3, retryCount: 0 });
    });

    it('manual retry from failed or canceled: queued, attempt continues', async () => {
      const t = await create({ maxRetries: 0 });
      await fail(await claimNext());
      expect((await get(t.id)).status).toBe('failed');
      const retried = (await services.tasks.action(ORG_A, t.id, 'retry', {})).task;
      expect(retried).toMatchObject({
        status: 'queued',
        completedAt: null,
        expiresAt: null,
        runAt: null,
        attempt: 1,
      });
      expect(await claimNext()).toMatchObject({ id: t.id, attempt: 2 });

      const c = await create();
      await services.tasks.action(ORG_A, c.id, 'cancel', {});
      expect((await services.tasks.action(ORG_A, c.id, 'retry', {})).task.status).toBe('queued');
      await expectCode(services.tasks.action(ORG_A, c.id, 'retry', {}), 'INVALID_TRANSITION');
      await claimById(c.id);
      await expectCode(services.tasks.action(ORG_A, c.id, 'retry', {}), 'INVALID_TRANSITION');
    });
  });
};
