/**
 * The worker side of SPEC §3, §5, §6 and §7 (claims, leases and fencing, the sweeper, retries,
 * review, type limits, dependencies, the reaper) tested through the services over any TaskStore.
 * Every rule runs on the injected ManualClock: nothing sleeps. Only long-poll claims wait on wall
 * time, and those tests use short waits and measure that a wake-up comes well before the deadline.
 */
import type { TaskCreate } from '@tasklane/sdk/schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import type { RetryPolicy, Task } from '../../src/domain/task.js';
import { createServices, type Services } from '../../src/service/services.js';
import type { ClaimRequest, Report } from '../../src/service/worker-service.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../helpers/task-factory.js';

export interface WorkerStoreUnderTest {
  store: TaskStore;
  clock: ManualClock;
  cleanup(): Promise<void>;
}

/** A small seeded PRNG (mulberry32), uniform in [0, 1): retry jitter that repeats run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noJitter = (strategy: RetryPolicy['strategy'], delayMs: number, maxDelayMs = 3_600_000): RetryPolicy => ({
  strategy,
  delayMs,
  maxDelayMs,
  jitter: 'none',
});
const iso = (ms: number): string => new Date(ms).toISOString();
const ids = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id);

function leaseOf(task: Task): string {
  if (task.lease === null) throw new Error(`task ${task.id} (${task.status}) has no lease`);
  return task.lease.id;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

export function workerConformanceSuite(name: string, factory: () => Promise<WorkerStoreUnderTest>): void {
  describe(`worker services: ${name}`, () => {
    let sut: WorkerStoreUnderTest;
    let clock: ManualClock;
    let services: Services;

    beforeEach(async () => {
      sut = await factory();
      clock = sut.clock;
      services = createServices(sut.store, { clock, random: seededRandom(20260101) });
      await sut.store.write(async (tx) => {
        await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
        await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 });
      });
    });

    afterEach(async () => {
      await sut.cleanup();
    });

    const create = async (input: Partial<TaskCreate> = {}, orgId = ORG_A): Promise<Task> =>
      (await services.tasks.create({ orgId, keyName: 'test-key' }, { type: 'job', ...input })).view.task;
    const claim = async (req: Partial<ClaimRequest> = {}, orgId = ORG_A): Promise<Task[]> =>
      (await services.workers.claim(orgId, { types: ['job'], workerId: 'w1', limit: 1, waitMs: 0, ...req })).map(
        (v) => v.task,
      );
    /** Claim exactly one task and return it. */
    const claimNext = async (req: Partial<ClaimRequest> = {}): Promise<Task> => {
      const [task, ...more] = await claim(req);
      if (task === undefined || more.length > 0) throw new Error('expected exactly one claimed task');
      return task;
    };
    const claimById = async (ref: string, workerId = 'w1', leaseMs?: number): Promise<Task> =>
      (await services.workers.claimOne(ORG_A, ref, { workerId, leaseMs })).task;
    const get = async (id: string, orgId = ORG_A): Promise<Task> => (await services.tasks.get(orgId, id)).task;
    const steps = async (id: string) => (await services.tasks.get(ORG_A, id)).steps;
    const sweep = () => services.maintenance.sweepOnce();
    /** Move the clock to a queued task's runAt (if any) and claim that very task. */
    const claimWhenDue = async (id: string, workerId = 'w1'): Promise<Task> => {
      const t = await get(id);
      if (t.runAt !== null && t.runAt > clock.now()) clock.set(t.runAt);
      return claimById(id, workerId);
    };
    const fail = async (t: Task, extra: { retryable?: boolean; retryAfterMs?: number } = {}, message = 'boom') =>
      (await services.workers.fail(ORG_A, t.id, { leaseId: leaseOf(t), error: { message }, ...extra })).task;
    const complete = async (t: Task, result: unknown = { ok: true }) =>
      (await services.workers.complete(ORG_A, t.id, { leaseId: leaseOf(t), result })).task;

    // ---------------------------------------------------------------------------------------
    describe('claim order and visibility', () => {
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

    // ---------------------------------------------------------------------------------------
    describe('long-poll claims (wall time)', () => {
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

    // ---------------------------------------------------------------------------------------
    describe('leases and fencing', () => {
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
        const events = await sut.store.read((tx) => tx.listEvents(ORG_A, 0, 10_000));
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

    // ---------------------------------------------------------------------------------------
    describe('sweeper', () => {
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

      const sutEvents = () => sut.store.read((tx) => tx.listEvents(ORG_A, 0, 10_000));
    });

    // ---------------------------------------------------------------------------------------
    describe('retries', () => {
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
        for (let i = 1; i <= 2; i++)
          expect((await fail(await claimWhenDue(t.id), {}, `try ${i}`)).status).toBe('queued');
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

    // ---------------------------------------------------------------------------------------
    describe('review', () => {
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

    // ---------------------------------------------------------------------------------------
    describe('types', () => {
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

    // ---------------------------------------------------------------------------------------
    describe('dependencies', () => {
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
        const failed = await services.workers
          .fail(ORG_A, a.id, { leaseId: leaseOf(held), error: { message: 'x' } })
          .then(
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

    // ---------------------------------------------------------------------------------------
    describe('reaper', () => {
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
        expect(await sut.store.read((tx) => tx.getSteps(ORG_A, t.id))).toEqual([]);
        expect((await get(keeper.id)).status).toBe('queued');
        expect((await get(defaultTtl.id)).status).toBe('completed');
        // The default retention: 30 days.
        clock.advance(30 * 24 * 3600 * 1000);
        expect(await services.maintenance.reapOnce()).toBe(1);
        await expectCode(services.tasks.get(ORG_A, defaultTtl.id), 'NOT_FOUND');
        expect((await get(keeper.id)).status).toBe('queued');
      });

      it('reapOnce works through more expired tasks than one batch', async () => {
        const maintenance = createServices(sut.store, { clock, maintenance: { batch: 3 } }).maintenance;
        for (let i = 0; i < 7; i++) {
          const t = await create({ ttlSeconds: 1 });
          await services.tasks.action(ORG_A, t.id, 'cancel', {});
        }
        clock.advance(1_000);
        expect(await maintenance.reapOnce()).toBe(7);
        expect((await services.insights.stats(ORG_A)).total).toBe(0);
      });
    });

    // ---------------------------------------------------------------------------------------
    describe('concurrency', () => {
      it('8 concurrent workers over 500 tasks: every task completed exactly once, none lost', async () => {
        const total = 500;
        for (let i = 0; i < total; i += 250) {
          await services.tasks.createBatch(
            { orgId: ORG_A, keyName: 'k' },
            {
              tasks: Array.from({ length: 250 }, (_, j) => ({
                type: 'job',
                priority: (i + j) % 7,
                maxRetries: 100,
                input: { n: i + j },
              })),
            },
          );
        }
        const completions = new Map<string, number>();
        const errors: unknown[] = [];
        let done = 0;
        const worker = async (w: number) => {
          const random = seededRandom(w + 1);
          while (done < total) {
            const batch = await claim({ workerId: `worker-${w}`, limit: 1 + Math.floor(random() * 5) });
            if (batch.length === 0) {
              await new Promise((resolve) => setImmediate(resolve));
              continue;
            }
            for (const t of batch) {
              try {
                if (random() < 0.1) {
                  // Some attempts fail and are retried at once: the task still completes exactly once.
                  await services.workers.fail(ORG_A, t.id, {
                    leaseId: leaseOf(t),
                    error: { message: 'flaky' },
                    retryAfterMs: 0,
                  });
                  continue;
                }
                await services.workers.complete(ORG_A, t.id, { leaseId: leaseOf(t), result: { by: w } });
                completions.set(t.id, (completions.get(t.id) ?? 0) + 1);
                done++;
              } catch (err) {
                errors.push(err);
                done = total; // stop everyone: the assertion below reports it
              }
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
        expect(errors).toEqual([]);
        expect(completions.size).toBe(total);
        expect([...completions.values()].every((n) => n === 1)).toBe(true);
        const stats = await services.insights.stats(ORG_A);
        expect(stats.total).toBe(total);
        expect(stats.byStatus.completed).toBe(total);
      });
    });
  });
}
