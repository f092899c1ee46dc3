/**
 * Dependencies (SPEC §6): blocked until settled, cascades, batches by ref, and the insights over
 * lists.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { expectCode, ids, leaseOf, type WorkerTopic } from './fixture.js';

export const dependencies: WorkerTopic = (fx) => {
  const { create, claim, claimNext, claimById, get, fail, complete } = fx;

  describe('dependencies', () => {
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ clock, services } = fx);
    });

    it('blocked until every dependency completes; queued by the last completion; blockedBy shrinks', async () => {
      const a = await create();
      const b = await create();
      const c = await create({ dependsOn: [a.id, b.id] });
      expect(c).toMatchObject({ status: 'blocked', blockedBy: [a.id, b.id], blockedAt: T0, queuedAt: null });
      expect(await claim({ limit: 10 }).then((ts) => ids(ts).sort())).toEqual(ids([a, b]).sort());
      await expectCode(claimById(c.id), 'INVALID_TRANSITION');

      clock.advance(1_000);
      await complete(await get(a.id));
      expect(await get(c.id)).toMatchObject({ status: 'blocked', blockedBy: [b.id] });
      clock.advance(1_000);
      await complete(await get(b.id));
      // Visible as soon as complete returns: the same unit of work queued it.
      expect(await get(c.id)).toMatchObject({
        status: 'queued',
        blockedBy: [],
        blockedReason: null,
        queuedAt: T0 + 2_000,
      });
      expect(ids(await claim())).toEqual([c.id]);
    });

    it('a dependency completing through review (approve) queues the dependent', async () => {
      const a = await create({ requiresReview: true });
      const b = await create({ dependsOn: [a.id] });
      await complete(await claimNext());
      expect((await get(b.id)).status).toBe('blocked');
      await services.tasks.action(ORG_A, a.id, 'approve', {});
      expect((await get(b.id)).status).toBe('queued');
    });

    it('a failing dependency cancels the dependent (DEPENDENCY_FAILED), down the whole chain', async () => {
      const a = await create({ maxRetries: 1 });
      const b = await create({ dependsOn: [a.id] });
      const c = await create({ dependsOn: [b.id] });
      const d = await create({ dependsOn: [c.id] });
      const side = await create({ dependsOn: [a.id], onDependencyFailure: 'run' });
      // A retried failure is not a failure of the dependency.
      await fail(await claimNext(), { retryAfterMs: 0 });
      expect((await get(b.id)).status).toBe('blocked');
      clock.advance(100);
      await fail(await claimNext());
      for (const t of [b, c, d]) {
        expect(await get(t.id)).toMatchObject({
          status: 'canceled',
          completedAt: T0 + 100,
          error: { code: 'DEPENDENCY_FAILED', retryable: false },
        });
      }
      expect((await get(b.id)).error?.details).toEqual({ dependencies: [a.id] });
      expect((await get(c.id)).error?.details).toEqual({ dependencies: [b.id] });
      expect((await get(side.id)).status).toBe('queued');
    });

    it('a failure cascades through a diamond (C needs A and B, B needs A): the fail commits, B and C canceled', async () => {
      const a = await create({ maxRetries: 0 });
      const b = await create({ dependsOn: [a.id] });
      const c = await create({ dependsOn: [a.id, b.id] });
      const held = await claimNext();
      // Settling A's dependents cancels B, whose own settling cancels C; C must not then be settled again
      // from the copy read before B's cascade (a stale version: CONFLICT rolls the whole fail back).
      const failed = await services.workers.fail(ORG_A, a.id, { leaseId: leaseOf(held), error: { message: 'x' } }).then(
        (v) => v.task.status,
        (err: { code?: string }) => `rejected with ${err.code ?? String(err)}`,
      );
      expect(failed).toBe('failed');
      expect((await get(b.id)).status).toBe('canceled');
      expect((await get(c.id)).status).toBe('canceled');
    });

    it("a cancel cascades through a diamond whose last task runs on failure ('run')", async () => {
      const a = await create();
      const b = await create({ dependsOn: [a.id] });
      const c = await create({ dependsOn: [a.id, b.id], onDependencyFailure: 'run' });
      const canceled = await services.tasks.action(ORG_A, a.id, 'cancel', {}).then(
        (v) => v.task.status,
        (err: { code?: string }) => `rejected with ${err.code ?? String(err)}`,
      );
      expect(canceled).toBe('canceled');
      expect((await get(b.id)).status).toBe('canceled');
      expect((await get(c.id)).status).toBe('queued');
    });

    it('a canceled dependency cancels the dependent too', async () => {
      const a = await create();
      const b = await create({ dependsOn: [a.id] });
      await services.tasks.action(ORG_A, a.id, 'cancel', {});
      expect(await get(b.id)).toMatchObject({ status: 'canceled', error: { code: 'DEPENDENCY_FAILED' } });
    });

    it("onDependencyFailure 'run': queued once every dependency is terminal, whatever the outcome", async () => {
      const a = await create();
      const b = await create();
      const c = await create();
      const d = await create({ dependsOn: [a.id, b.id, c.id], onDependencyFailure: 'run' });
      await fail(await claimById(a.id), { retryable: false });
      expect(await get(d.id)).toMatchObject({ status: 'blocked', blockedBy: [b.id, c.id] });
      await services.tasks.action(ORG_A, b.id, 'cancel', {});
      expect(await get(d.id)).toMatchObject({ status: 'blocked', blockedBy: [c.id] });
      await complete(await claimById(c.id));
      expect(await get(d.id)).toMatchObject({ status: 'queued', blockedBy: [], error: null });
    });

    it('created after its dependencies settled: queued, canceled, or queued under run', async () => {
      const done = await create();
      await complete(await claimNext());
      const failed = await create({ maxRetries: 0 });
      await fail(await claimNext());
      expect((await create({ dependsOn: [done.id] })).status).toBe('queued');
      expect(await create({ dependsOn: [done.id, failed.id] })).toMatchObject({
        status: 'canceled',
        error: { code: 'DEPENDENCY_FAILED' },
      });
      expect((await create({ dependsOn: [failed.id], onDependencyFailure: 'run' })).status).toBe('queued');
    });

    it('retry of a task its dependency canceled: refused while the dependency is failed; after it, waits for it', async () => {
      const a = await create({ maxRetries: 0 });
      const b = await create({ dependsOn: [a.id] });
      await fail(await claimNext());
      expect((await get(b.id)).status).toBe('canceled');
      const before = await get(b.id);
      await expectCode(services.tasks.action(ORG_A, b.id, 'retry', {}), 'INVALID_TRANSITION');
      expect(await get(b.id)).toEqual(before);

      await services.tasks.action(ORG_A, a.id, 'retry', {});
      const retried = (await services.tasks.action(ORG_A, b.id, 'retry', {})).task;
      expect(retried).toMatchObject({ status: 'blocked', blockedBy: [a.id], completedAt: null, expiresAt: null });
      await complete(await claimNext());
      expect((await get(b.id)).status).toBe('queued');
    });

    it('a dependency of another org is an unknown one', async () => {
      const foreign = await create({}, ORG_B);
      await expectCode(create({ dependsOn: [foreign.id] }), 'UNKNOWN_DEPENDENCY');
    });

    it('a batch wires dependencies by ref; the chain runs in order', async () => {
      const { views } = await services.tasks.createBatch(
        { orgId: ORG_A, keyName: 'k' },
        {
          tasks: [
            { type: 'job', ref: 'fetch', listId: 'L' },
            { type: 'job', ref: 'parse', dependsOn: ['fetch'], listId: 'L' },
            { type: 'job', ref: 'load', dependsOn: ['parse'], listId: 'L' },
          ],
        },
      );
      const [fetch, parse, load] = views.map((v) => v.task) as [Task, Task, Task];
      expect([fetch.status, parse.status, load.status]).toEqual(['queued', 'blocked', 'blocked']);
      const order: string[] = [];
      for (;;) {
        const [t] = await claim();
        if (t === undefined) break;
        order.push(t.id);
        await complete(t);
      }
      expect(order).toEqual(ids([fetch, parse, load]));
    });

    it('insights.list: counts by status and the graph of the list', async () => {
      const a = await create({ listId: 'plan-1', title: 'A' });
      const b = await create({ listId: 'plan-1', title: 'B', dependsOn: [a.id] });
      const c = await create({ listId: 'plan-1', title: 'C', dependsOn: [a.id, b.id] });
      const outside = await create({ listId: 'plan-2' });
      const d = await create({ listId: 'plan-1', title: 'D', dependsOn: [outside.id] });
      await complete(await claimById(a.id));
      await services.tasks.action(ORG_A, d.id, 'archive', {});

      const view = await services.insights.list(ORG_A, 'plan-1');
      expect(view).toMatchObject({ listId: 'plan-1', total: 4, truncated: false });
      expect(view.counts).toEqual({
        backlog: 0,
        blocked: 2,
        queued: 1,
        in_progress: 0,
        needs_review: 0,
        completed: 1,
        failed: 0,
        canceled: 0,
      });
      expect(view.nodes.map((n) => [n.title, n.status])).toEqual([
        ['A', 'completed'],
        ['B', 'queued'],
        ['C', 'blocked'],
        ['D', 'blocked'],
      ]);
      expect(view.nodes[0]).toEqual({ id: a.id, identifier: null, type: 'job', title: 'A', status: 'completed' });
      expect(view.edges).toEqual([
        { from: a.id, to: b.id },
        { from: a.id, to: c.id },
        { from: b.id, to: c.id },
      ]);
      expect(await services.insights.list(ORG_B, 'plan-1')).toMatchObject({ total: 0, nodes: [], edges: [] });
    });

    it('insights.stats: counts by status and type, oldest queued age, claims per minute', async () => {
      await create({ type: 'x' });
      clock.advance(10_000);
      await create({ type: 'y' });
      await create({ type: 'y', delayMs: 60_000 });
      await create({ type: 'z' }, ORG_B);
      clock.advance(20_000);
      expect(await services.insights.stats(ORG_A)).toMatchObject({
        total: 3,
        oldestQueuedAgeMs: 30_000,
        claimsPerMinute: 0,
      });
      await claim({ types: ['x'] });
      clock.advance(30_000);
      await claim({ types: ['y'] });
      const stats = await services.insights.stats(ORG_A);
      expect(stats).toMatchObject({ total: 3, claimsPerMinute: 2 });
      expect(stats.byStatus).toMatchObject({ queued: 1, in_progress: 2, completed: 0 });
      expect(stats.byType.x).toMatchObject({ in_progress: 1, queued: 0 });
      expect(stats.byType.y).toMatchObject({ in_progress: 1, queued: 1 });
      expect(stats.byType.z).toBeUndefined();
      // The delayed task is not claimable: no queued age yet.
      expect(stats.oldestQueuedAgeMs).toBeNull();
      clock.advance(30_001); // the first claim is now more than a minute old
      expect((await services.insights.stats(ORG_A)).claimsPerMinute).toBe(1);
    });
  });
};
