/**
 * What every topic of the worker suite works with: the services over a fresh, migrated store per
 * test (orgs ORG_A and ORG_B in it, a ManualClock, seeded retry jitter), and the worker's calls as
 * one-liners. Every rule runs on the injected clock: nothing sleeps.
 */
import type { TaskCreate } from '@tasklane/sdk/schemas';
import { afterEach, beforeEach, expect } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { ErrorCode } from '../../../src/domain/errors.js';
import type { RetryPolicy, Step, Task } from '../../../src/domain/task.js';
import { createServices, type Services } from '../../../src/service/services.js';
import type { ClaimRequest } from '../../../src/service/worker-service.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';

export interface WorkerStoreUnderTest {
  store: TaskStore;
  clock: ManualClock;
  cleanup(): Promise<void>;
}

/** One topic of the suite: registers its `describe` blocks, reading the services from `fx` in its tests. */
export type WorkerTopic = (fx: WorkerFixture) => void;

export interface WorkerFixture {
  /** The store, clock and services of the running test (new ones for every test). */
  readonly store: TaskStore;
  readonly clock: ManualClock;
  readonly services: Services;
  /** Create a task (type `job` unless given) through the service, in org A unless given. */
  create(input?: Partial<TaskCreate>, orgId?: string): Promise<Task>;
  /** A claim of type `job` by worker w1, one task, no wait, unless `req` says otherwise. */
  claim(req?: Partial<ClaimRequest>, orgId?: string): Promise<Task[]>;
  /** Claim exactly one task and return it. */
  claimNext(req?: Partial<ClaimRequest>): Promise<Task>;
  claimById(ref: string, workerId?: string, leaseMs?: number): Promise<Task>;
  get(id: string, orgId?: string): Promise<Task>;
  steps(id: string): Promise<Step[]>;
  sweep(): Promise<number>;
  /** Move the clock to a queued task's runAt (if any) and claim that very task. */
  claimWhenDue(id: string, workerId?: string): Promise<Task>;
  fail(t: Task, extra?: { retryable?: boolean; retryAfterMs?: number }, message?: string): Promise<Task>;
  complete(t: Task, result?: unknown): Promise<Task>;
}

/** Fresh services from `factory` before each test of the enclosing `describe`, closed after it. */
export function useServices(factory: () => Promise<WorkerStoreUnderTest>): WorkerFixture {
  let current: { sut: WorkerStoreUnderTest; services: Services } | undefined;
  const now = () => {
    if (current === undefined) throw new Error('the worker suite is used outside a test');
    return current;
  };

  beforeEach(async () => {
    const sut = await factory();
    current = { sut, services: createServices(sut.store, { clock: sut.clock, random: seededRandom(20260101) }) };
    await sut.store.write(async (tx) => {
      await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
      await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 });
    });
  });

  afterEach(async () => {
    await now().sut.cleanup();
    current = undefined;
  });

  const fx: WorkerFixture = {
    get store() {
      return now().sut.store;
    },
    get clock() {
      return now().sut.clock;
    },
    get services() {
      return now().services;
    },
    create: async (input = {}, orgId = ORG_A) =>
      (await fx.services.tasks.create({ orgId, keyName: 'test-key' }, { type: 'job', ...input })).view.task,
    claim: async (req = {}, orgId = ORG_A) =>
      (await fx.services.workers.claim(orgId, { types: ['job'], workerId: 'w1', limit: 1, waitMs: 0, ...req })).map(
        (v) => v.task,
      ),
    claimNext: async (req = {}) => {
      const [task, ...more] = await fx.claim(req);
      if (task === undefined || more.length > 0) throw new Error('expected exactly one claimed task');
      return task;
    },
    claimById: async (ref, workerId = 'w1', leaseMs) =>
      (await fx.services.workers.claimOne(ORG_A, ref, { workerId, leaseMs })).task,
    get: async (id, orgId = ORG_A) => (await fx.services.tasks.get(orgId, id)).task,
    steps: async (id) => (await fx.services.tasks.get(ORG_A, id)).steps,
    sweep: () => fx.services.maintenance.sweepOnce(),
    claimWhenDue: async (id, workerId = 'w1') => {
      const t = await fx.get(id);
      if (t.runAt !== null && t.runAt > fx.clock.now()) fx.clock.set(t.runAt);
      return fx.claimById(id, workerId);
    },
    fail: async (t, extra = {}, message = 'boom') =>
      (await fx.services.workers.fail(ORG_A, t.id, { leaseId: leaseOf(t), error: { message }, ...extra })).task,
    complete: async (t, result = { ok: true }) =>
      (await fx.services.workers.complete(ORG_A, t.id, { leaseId: leaseOf(t), result })).task,
  };
  return fx;
}

export const noJitter = (strategy: RetryPolicy['strategy'], delayMs: number, maxDelayMs = 3_600_000): RetryPolicy => ({
  strategy,
  delayMs,
  maxDelayMs,
  jitter: 'none',
});
export const iso = (ms: number): string => new Date(ms).toISOString();
export const ids = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id);

export function leaseOf(task: Task): string {
  if (task.lease === null) throw new Error(`task ${task.id} (${task.status}) has no lease`);
  return task.lease.id;
}

export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}
