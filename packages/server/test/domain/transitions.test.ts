/**
 * The lifecycle table (SPEC §3) and the retry rules (SPEC §5), tested as pure functions: a fixed
 * `now`, a `random` that returns what the test says, and input records frozen so that any mutation
 * throws.
 */
import { describe, expect, it } from 'vitest';
import { TasklaneError } from '../../src/domain/errors.js';
import { retryDelayMs } from '../../src/domain/retry.js';
import { ACTIVE_STATUSES, STATUSES, type TaskStatus } from '../../src/domain/status.js';
import type { RetryPolicy, Task } from '../../src/domain/task.js';
import {
  TRANSITIONS,
  TRANSITION_NAMES,
  applyTransition,
  viewDependencies,
  type DependencyView,
  type FromStatus,
  type TransitionContext,
  type TransitionEvent,
  type TransitionName,
} from '../../src/domain/transitions.js';
import { T0, deepFreeze, makeTask, taskInStatus, uuidV7 } from '../helpers/task-factory.js';

const NOW = T0 + 100_000;
const NO_DEPS: DependencyView = { open: [], failed: [] };
const DEP_A = uuidV7(101);
const DEP_B = uuidV7(102);
const DEP_C = uuidV7(103);

function ctx(random: () => number = () => 0.5): TransitionContext {
  return { now: NOW, random };
}

/** A record as the service drafts it before `create`: status is ignored, version 1. */
function draft(overrides: Partial<Task> = {}): Task {
  return makeTask({ status: 'backlog', queuedAt: null, version: 1, createdAt: NOW, updatedAt: NOW, ...overrides });
}

/** Apply to a frozen copy, and check the input came back unchanged. */
function apply(task: Task, event: TransitionEvent, c: TransitionContext = ctx()): Task {
  const before = structuredClone(task);
  const frozen = deepFreeze(structuredClone(task));
  try {
    return applyTransition(frozen, event, c);
  } finally {
    expect(frozen).toEqual(before);
  }
}

function expectInvalidTransition(task: Task, event: TransitionEvent): void {
  const before = structuredClone(task);
  const frozen = deepFreeze(structuredClone(task));
  let thrown: unknown;
  try {
    applyTransition(frozen, event, ctx());
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TasklaneError);
  expect((thrown as TasklaneError).code).toBe('INVALID_TRANSITION');
  expect(frozen).toEqual(before);
}

/** One valid event of each name, as a service would send it. */
const EVENTS: { [K in TransitionName]: Extract<TransitionEvent, { name: K }> } = {
  create: { name: 'create', start: true, deps: NO_DEPS },
  start: { name: 'start', deps: NO_DEPS },
  dependency_completed: { name: 'dependency_completed', deps: NO_DEPS },
  dependency_failed: { name: 'dependency_failed', deps: { open: [], failed: [DEP_A] } },
  claim: { name: 'claim', leaseId: 'lease-2', workerId: 'worker-2', leaseMs: 20_000 },
  heartbeat: { name: 'heartbeat', progress: 0.5, progressMessage: 'halfway' },
  release: { name: 'release', delayMs: 5_000 },
  complete: { name: 'complete', result: { sent: 1 } },
  fail: { name: 'fail', error: { code: 'SMTP_DOWN', message: 'connection refused' } },
  lease_expired: { name: 'lease_expired' },
  timeout: { name: 'timeout' },
  approve: { name: 'approve' },
  reject: { name: 'reject', reason: 'Wrong recipient.' },
  block: { name: 'block', reason: 'Waiting for legal.' },
  unblock: { name: 'unblock', deps: NO_DEPS },
  cancel: { name: 'cancel', reason: 'No longer needed.' },
  retry: { name: 'retry', deps: { open: [], failed: [] } },
};

/** Whether the TABLE (the data, not `canTransition`) allows `name` from `from`. */
function inTable(from: FromStatus, name: TransitionName): boolean {
  return (TRANSITIONS[name].from as readonly FromStatus[]).includes(from);
}

describe('the transition table: every status × every transition', () => {
  const rows: FromStatus[] = ['new', ...STATUSES];
  for (const from of rows) {
    for (const name of TRANSITION_NAMES) {
      // `create` takes a draft whose status is ignored: its only row is `new` (tested below).
      if (name === 'create' && from !== 'new') continue;
      const legal = inTable(from, name);
      it(`${from} × ${name} → ${legal ? 'allowed' : 'INVALID_TRANSITION'}`, () => {
        const task =
          from === 'new'
            ? name === 'create'
              ? draft()
              : { ...makeTask(), status: 'new' as unknown as TaskStatus }
            : taskInStatus(from);
        const event = EVENTS[name];
        if (!legal) {
          expectInvalidTransition(task, event);
          return;
        }
        const next = apply(task, event);
        expect(TRANSITIONS[name].to as readonly TaskStatus[]).toContain(next.status);
        expect(next.version).toBe(name === 'create' ? 1 : task.version + 1);
        expect(next.updatedAt).toBe(NOW);
      });
    }
  }

  it('create ignores the status the draft carries (its row is always `new`)', () => {
    for (const status of STATUSES) {
      const next = apply(draft({ status }), EVENTS.create);
      expect(next.status).toBe('queued');
      expect(next.version).toBe(1);
    }
  });

  it('every transition name has a `from` and a `to` list drawn from the statuses', () => {
    for (const name of TRANSITION_NAMES) {
      for (const from of TRANSITIONS[name].from) expect(rows).toContain(from);
      for (const to of TRANSITIONS[name].to) expect(STATUSES).toContain(to);
    }
  });
});

describe('create and start', () => {
  it('create with start:false → backlog, version 1, createdAt = now', () => {
    const next = apply(draft({ createdAt: T0 }), { name: 'create', start: false, deps: NO_DEPS });
    expect(next).toMatchObject({ status: 'backlog', version: 1, createdAt: NOW, updatedAt: NOW, queuedAt: null });
  });

  it('create yields version 1 whatever version the draft carries', () => {
    // computeNext sets version 1 for create, but applyTransition then overwrites it with
    // draft.version + 0, so a draft of version 7 is created at version 7.
    const next = apply(draft({ version: 7 }), EVENTS.create);
    expect(next.version).toBe(1);
  });

  it('create with no dependencies → queued at once, keeping a requested runAt', () => {
    const next = apply(draft({ runAt: NOW + 60_000 }), EVENTS.create);
    expect(next).toMatchObject({ status: 'queued', queuedAt: NOW, runAt: NOW + 60_000, blockedBy: [] });
  });

  it('create with open dependencies → blocked with blockedBy, blockedReason and blockedAt', () => {
    const task = draft({ dependsOn: [DEP_A, DEP_B] });
    const deps = viewDependencies(task, [
      { id: DEP_A, status: 'in_progress' },
      { id: DEP_B, status: 'completed' },
    ]);
    const next = apply(task, { name: 'create', start: true, deps });
    expect(next.status).toBe('blocked');
    expect(next.blockKind).toBe('dependencies');
    expect(next.blockedBy).toEqual([DEP_A]);
    expect(next.blockedReason).toEqual(expect.any(String));
    expect(next.blockedReason).not.toBe('');
    expect(next.blockedAt).toBe(NOW);
    expect(next.queuedAt).toBeNull();
  });

  it('create with a failed dependency and onDependencyFailure cancel → canceled DEPENDENCY_FAILED', () => {
    const task = draft({ dependsOn: [DEP_A, DEP_B], ttlSeconds: 120 });
    const deps = viewDependencies(task, [
      { id: DEP_A, status: 'failed' },
      { id: DEP_B, status: 'queued' },
    ]);
    expect(deps.failed).toEqual([DEP_A]);
    const next = apply(task, { name: 'create', start: true, deps });
    expect(next.status).toBe('canceled');
    expect(next.error?.code).toBe('DEPENDENCY_FAILED');
    expect(next.completedAt).toBe(NOW);
    expect(next.expiresAt).toBe(NOW + 120 * 1000);
    expect(next.version).toBe(1);
  });

  it("with onDependencyFailure 'run', a failed or canceled dependency counts as settled", () => {
    const task = draft({ dependsOn: [DEP_A, DEP_B, DEP_C], onDependencyFailure: 'run' });
    const settled = viewDependencies(task, [
      { id: DEP_A, status: 'failed' },
      { id: DEP_B, status: 'canceled' },
      { id: DEP_C, status: 'completed' },
    ]);
    expect(settled).toEqual({ open: [], failed: [] });
    expect(apply(task, { name: 'create', start: true, deps: settled }).status).toBe('queued');

    const oneOpen = viewDependencies(task, [
      { id: DEP_A, status: 'failed' },
      { id: DEP_B, status: 'canceled' },
      { id: DEP_C, status: 'queued' },
    ]);
    const next = apply(task, { name: 'create', start: true, deps: oneOpen });
    expect(next.status).toBe('blocked');
    expect(next.blockedBy).toEqual([DEP_C]);
  });

  it('viewDependencies: completed is settled, every other active status is open', () => {
    const deps = [
      { id: uuidV7(201), status: 'backlog' as const },
      { id: uuidV7(202), status: 'blocked' as const },
      { id: uuidV7(203), status: 'queued' as const },
      { id: uuidV7(204), status: 'in_progress' as const },
      { id: uuidV7(205), status: 'needs_review' as const },
      { id: uuidV7(206), status: 'completed' as const },
      { id: uuidV7(207), status: 'failed' as const },
      { id: uuidV7(208), status: 'canceled' as const },
    ];
    expect(viewDependencies({ onDependencyFailure: 'cancel' }, deps)).toEqual({
      open: deps.slice(0, 5).map((d) => d.id),
      failed: [uuidV7(207), uuidV7(208)],
    });
    expect(viewDependencies({ onDependencyFailure: 'run' }, deps)).toEqual({
      open: deps.slice(0, 5).map((d) => d.id),
      failed: [],
    });
  });

  it('start from backlog → queued, or blocked on open dependencies', () => {
    const backlog = taskInStatus('backlog', { dependsOn: [DEP_A] });
    expect(apply(backlog, { name: 'start', deps: NO_DEPS })).toMatchObject({ status: 'queued', queuedAt: NOW });
    expect(apply(backlog, { name: 'start', deps: { open: [DEP_A], failed: [] } })).toMatchObject({
      status: 'blocked',
      blockKind: 'dependencies',
      blockedBy: [DEP_A],
      blockedAt: NOW,
    });
    expect(apply(backlog, { name: 'start', deps: { open: [], failed: [DEP_A] } }).error?.code).toBe(
      'DEPENDENCY_FAILED',
    );
  });
});

describe('dependencies settling', () => {
  const waiting = () =>
    taskInStatus('blocked', {
      dependsOn: [DEP_A, DEP_B],
      blockedBy: [DEP_A, DEP_B],
      blockKind: 'dependencies',
      blockedReason: 'Waiting for 2 dependencies.',
      blockedAt: T0,
    });

  it('the last dependency completing queues the task', () => {
    const next = apply(waiting(), { name: 'dependency_completed', deps: NO_DEPS });
    expect(next).toMatchObject({
      status: 'queued',
      queuedAt: NOW,
      blockedBy: [],
      blockedReason: null,
      blockKind: null,
    });
  });

  it('a dependency completing while others are open shrinks blockedBy and keeps blockedAt', () => {
    const next = apply(waiting(), { name: 'dependency_completed', deps: { open: [DEP_B], failed: [] } });
    expect(next).toMatchObject({ status: 'blocked', blockedBy: [DEP_B], blockedAt: T0 });
  });

  it('a dependency failing cancels the dependent (cancel) or counts as settled (run)', () => {
    const canceled = apply(waiting(), { name: 'dependency_failed', deps: { open: [DEP_B], failed: [DEP_A] } });
    expect(canceled).toMatchObject({ status: 'canceled', completedAt: NOW });
    expect(canceled.error?.code).toBe('DEPENDENCY_FAILED');

    const run = waiting();
    run.onDependencyFailure = 'run';
    expect(apply(run, { name: 'dependency_failed', deps: NO_DEPS }).status).toBe('queued');
  });

  it('a manually blocked task stays blocked when its dependency completes', () => {
    const manual = taskInStatus('blocked', {
      dependsOn: [DEP_A],
      blockedBy: [DEP_A],
      blockKind: 'manual',
      blockedReason: 'Waiting for legal.',
      blockedAt: T0,
    });
    const next = apply(manual, { name: 'dependency_completed', deps: NO_DEPS });
    expect(next).toMatchObject({
      status: 'blocked',
      blockKind: 'manual',
      blockedReason: 'Waiting for legal.',
      blockedAt: T0,
      blockedBy: [],
    });
    // …and unblock then queues it, its dependencies being settled.
    expect(apply(next, { name: 'unblock', deps: NO_DEPS }).status).toBe('queued');
  });
});

describe('claim, heartbeat, release', () => {
  it('claim → in_progress: attempt +1, pollCount +1, startedAt, lease, timeoutAt', () => {
    const queued = taskInStatus('queued', { timeoutMs: 60_000, runAt: NOW - 1 });
    const next = apply(queued, { name: 'claim', leaseId: 'L1', workerId: 'w1', leaseMs: 20_000 });
    expect(next).toMatchObject({
      status: 'in_progress',
      attempt: 1,
      pollCount: 1,
      startedAt: NOW,
      lease: { id: 'L1', workerId: 'w1', expiresAt: NOW + 20_000, lengthMs: 20_000 },
      timeoutAt: NOW + 60_000,
      assignee: 'w1',
    });
  });

  it('startedAt is set only on the first claim', () => {
    const again = taskInStatus('queued', { attempt: 1, pollCount: 1, startedAt: T0 + 1_000, retryCount: 1 });
    const next = apply(again, { name: 'claim', leaseId: 'L2', workerId: 'w2', leaseMs: 10_000 });
    expect(next).toMatchObject({ attempt: 2, pollCount: 2, startedAt: T0 + 1_000, retryCount: 1 });
    expect(next.lease).toEqual({ id: 'L2', workerId: 'w2', expiresAt: NOW + 10_000, lengthMs: 10_000 });
  });

  it('claim without timeoutMs leaves timeoutAt null', () => {
    const next = apply(taskInStatus('queued', { timeoutMs: null }), EVENTS.claim);
    expect(next.timeoutAt).toBeNull();
  });

  it('heartbeat extends the lease and records progress', () => {
    const running = taskInStatus('in_progress');
    const next = apply(running, { name: 'heartbeat', extendMs: 45_000, progress: 0.4, progressMessage: '4 of 10' });
    expect(next.status).toBe('in_progress');
    expect(next.lease).toEqual({ id: 'lease-1', workerId: 'worker-1', expiresAt: NOW + 45_000, lengthMs: 30_000 });
    expect(next).toMatchObject({ progress: 0.4, progressMessage: '4 of 10', attempt: running.attempt });
  });

  it('heartbeat without extendMs renews the lease by its length (asked at claim) and keeps progress', () => {
    const running = taskInStatus('in_progress', { leaseMs: 30_000, progress: 0.2, progressMessage: 'started' });
    const next = apply(running, { name: 'heartbeat' });
    expect(next.lease?.expiresAt).toBe(NOW + 30_000);
    expect(next).toMatchObject({ progress: 0.2, progressMessage: 'started' });
  });

  it('release → queued, runAt = now + delayMs, attempt and retryCount unchanged, lease cleared', () => {
    const running = taskInStatus('in_progress', { attempt: 2, retryCount: 1 });
    const next = apply(running, { name: 'release', delayMs: 5_000 });
    expect(next).toMatchObject({
      status: 'queued',
      runAt: NOW + 5_000,
      queuedAt: NOW,
      attempt: 2,
      retryCount: 1,
      lease: null,
      timeoutAt: null,
    });
    expect(apply(running, { name: 'release' }).runAt).toBeNull();
  });
});

describe('complete, fail, lease expiry, timeout', () => {
  const policy: RetryPolicy = { strategy: 'exponential', delayMs: 1_000, maxDelayMs: 300_000, jitter: 'none' };
  const running = (overrides: Partial<Task> = {}) =>
    taskInStatus('in_progress', { retryPolicy: policy, maxRetries: 3, retryCount: 0, ttlSeconds: 600, ...overrides });

  it('complete → completed with progress 1, result, completedAt and expiresAt', () => {
    const next = apply(running({ progress: 0.3 }), { name: 'complete', result: { id: 42 } });
    expect(next).toMatchObject({
      status: 'completed',
      progress: 1,
      result: { id: 42 },
      completedAt: NOW,
      expiresAt: NOW + 600 * 1000,
      lease: null,
      timeoutAt: null,
    });
  });

  it('complete → needs_review when requiresReview, or when the worker asks for review', () => {
    for (const [task, review] of [
      [running({ requiresReview: true }), undefined],
      [running(), true],
    ] as const) {
      const next = apply(task, { name: 'complete', result: 'draft', review });
      expect(next).toMatchObject({ status: 'needs_review', result: 'draft', lease: null, completedAt: null });
    }
  });

  it('fail, retryable with retries left → queued, runAt from the policy, retryCount +1, error kept', () => {
    const next = apply(running({ attempt: 1 }), {
      name: 'fail',
      error: { code: 'SMTP_DOWN', message: 'refused', details: { host: 'mx' } },
    });
    expect(next).toMatchObject({ status: 'queued', runAt: NOW + 1_000, retryCount: 1, attempt: 1, lease: null });
    expect(next.error).toEqual({ code: 'SMTP_DOWN', message: 'refused', details: { host: 'mx' }, retryable: true });

    // Third retry: exponential 1 s · 2^(3-1).
    expect(apply(running({ retryCount: 2 }), EVENTS.fail).runAt).toBe(NOW + 4_000);
  });

  it('fail draws the jittered delay from the policy with the random passed in', () => {
    const jittered: RetryPolicy = { ...policy, jitter: 'full' };
    const random = () => 0.25;
    const next = apply(running({ retryPolicy: jittered, retryCount: 1 }), EVENTS.fail, ctx(random));
    expect(next.runAt).toBe(NOW + retryDelayMs(jittered, 2, random));
    expect(next.runAt).toBeLessThanOrEqual(NOW + 2_000);
  });

  it('fail with retryable:false → failed, even with retries left', () => {
    const next = apply(running(), { name: 'fail', error: { code: 'BAD_INPUT', message: 'no' }, retryable: false });
    expect(next).toMatchObject({ status: 'failed', completedAt: NOW, expiresAt: NOW + 600 * 1000, retryCount: 0 });
    expect(next.error).toMatchObject({ code: 'BAD_INPUT', message: 'no', retryable: false });
  });

  it('fail with retries exhausted → failed, the last error kept', () => {
    const next = apply(running({ retryCount: 3, maxRetries: 3 }), {
      name: 'fail',
      error: { code: 'SMTP_DOWN', message: 'still refused' },
    });
    expect(next).toMatchObject({ status: 'failed', completedAt: NOW, lease: null });
    expect(next.error).toMatchObject({ code: 'SMTP_DOWN', message: 'still refused' });
    expect(apply(running({ maxRetries: 0 }), EVENTS.fail).status).toBe('failed');
  });

  it('retryAfterMs overrides the policy', () => {
    const next = apply(running({ retryCount: 2 }), { ...EVENTS.fail, retryAfterMs: 7_000 });
    expect(next).toMatchObject({ status: 'queued', runAt: NOW + 7_000, retryCount: 3 });
  });

  it('lease_expired → queued at once (no backoff), LEASE_EXPIRED, retryCount +1, attempt spent', () => {
    const slow: RetryPolicy = { strategy: 'fixed', delayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' };
    const next = apply(running({ retryPolicy: slow, attempt: 1 }), { name: 'lease_expired' });
    expect(next).toMatchObject({
      status: 'queued',
      runAt: null,
      queuedAt: NOW,
      retryCount: 1,
      attempt: 1,
      lease: null,
    });
    expect(next.error?.code).toBe('LEASE_EXPIRED');
  });

  it('lease_expired with no retries left → failed LEASE_EXPIRED', () => {
    const next = apply(running({ retryCount: 3 }), { name: 'lease_expired' });
    expect(next).toMatchObject({ status: 'failed', completedAt: NOW });
    expect(next.error?.code).toBe('LEASE_EXPIRED');
  });

  it('timeout → queued with TIMED_OUT and backoff; failed when none left', () => {
    const fixed: RetryPolicy = { strategy: 'fixed', delayMs: 5_000, maxDelayMs: 60_000, jitter: 'none' };
    const next = apply(running({ retryPolicy: fixed }), { name: 'timeout' });
    expect(next).toMatchObject({ status: 'queued', runAt: NOW + 5_000, retryCount: 1, timeoutAt: null, lease: null });
    expect(next.error).toMatchObject({ code: 'TIMED_OUT', retryable: true });

    const last = apply(running({ retryPolicy: fixed, retryCount: 3 }), { name: 'timeout' });
    expect(last.status).toBe('failed');
    expect(last.error?.code).toBe('TIMED_OUT');
  });
});

describe('review, block, cancel, retry', () => {
  it('approve → completed', () => {
    const next = apply(taskInStatus('needs_review', { ttlSeconds: 60 }), { name: 'approve' });
    expect(next).toMatchObject({
      status: 'completed',
      completedAt: NOW,
      expiresAt: NOW + 60_000,
      result: { draft: true },
    });
  });

  it('reject with requeue → queued, attempt unchanged', () => {
    const review = taskInStatus('needs_review', { attempt: 2 });
    const next = apply(review, { name: 'reject', requeue: true, reason: 'Try again.' });
    expect(next).toMatchObject({ status: 'queued', attempt: 2, queuedAt: NOW, completedAt: null });
  });

  it('reject → failed REJECTED', () => {
    const next = apply(taskInStatus('needs_review'), { name: 'reject', reason: 'Wrong recipient.' });
    expect(next).toMatchObject({ status: 'failed', completedAt: NOW });
    expect(next.error).toMatchObject({ code: 'REJECTED', message: 'Wrong recipient.', retryable: false });
  });

  for (const status of ACTIVE_STATUSES) {
    it(`block from ${status} → blocked (manual) with the reason, lease cleared`, () => {
      const next = apply(taskInStatus(status), { name: 'block', reason: 'Frozen by ops.' });
      expect(next).toMatchObject({
        status: 'blocked',
        blockKind: 'manual',
        blockedReason: 'Frozen by ops.',
        blockedAt: NOW,
        lease: null,
        timeoutAt: null,
      });
    });

    it(`cancel from ${status} → canceled`, () => {
      const next = apply(taskInStatus(status, { ttlSeconds: 60 }), { name: 'cancel', reason: 'Not needed.' });
      expect(next).toMatchObject({ status: 'canceled', completedAt: NOW, expiresAt: NOW + 60_000, lease: null });
    });
  }

  it('unblock of a manual block → queued, block cleared', () => {
    const next = apply(taskInStatus('blocked'), { name: 'unblock', deps: NO_DEPS });
    expect(next).toMatchObject({
      status: 'queued',
      queuedAt: NOW,
      blockKind: null,
      blockedReason: null,
      blockedBy: [],
    });
  });

  it('unblock of a manual block whose dependencies are still open → blocked on them', () => {
    const manual = taskInStatus('blocked', { dependsOn: [DEP_A] });
    const next = apply(manual, { name: 'unblock', deps: { open: [DEP_A], failed: [] } });
    expect(next).toMatchObject({ status: 'blocked', blockKind: 'dependencies', blockedBy: [DEP_A] });
  });

  it('unblock of a task waiting for its dependencies → INVALID_TRANSITION, nothing changed', () => {
    const waiting = taskInStatus('blocked', {
      dependsOn: [DEP_A],
      blockedBy: [DEP_A],
      blockKind: 'dependencies',
      blockedReason: 'Waiting for 1 dependency.',
    });
    expectInvalidTransition(waiting, { name: 'unblock', deps: { open: [DEP_A], failed: [] } });
  });

  for (const status of ['failed', 'canceled'] as const) {
    it(`retry from ${status} → queued, completedAt and expiresAt cleared, a fresh retry budget`, () => {
      const ended = taskInStatus(status, { attempt: 3, retryCount: 3, maxRetries: 3 });
      const next = apply(ended, { name: 'retry', deps: { open: [], failed: [] } });
      expect(next).toMatchObject({
        status: 'queued',
        queuedAt: NOW,
        completedAt: null,
        expiresAt: null,
        attempt: 3,
        retryCount: 0,
        runAt: null,
        version: ended.version + 1,
      });
    });
  }

  it('retry waits (blocked) for a dependency that is still open', () => {
    const ended = taskInStatus('canceled', { dependsOn: [DEP_A] });
    const next = apply(ended, { name: 'retry', deps: { open: [DEP_A], failed: [] } });
    expect(next).toMatchObject({ status: 'blocked', blockedBy: [DEP_A], blockKind: 'dependencies' });
  });

  it('retry is refused while a dependency is still failed (it would be canceled at once)', () => {
    const ended = taskInStatus('canceled', { dependsOn: [DEP_A] });
    expectInvalidTransition(ended, { name: 'retry', deps: { open: [], failed: [DEP_A] } });
  });

  it('unblock of a manual block whose dependency failed meanwhile → canceled with DEPENDENCY_FAILED', () => {
    const blocked = taskInStatus('blocked', { dependsOn: [DEP_A], blockKind: 'manual', blockedReason: 'hold' });
    const next = apply(blocked, { name: 'unblock', deps: { open: [], failed: [DEP_A] } });
    expect(next.status).toBe('canceled');
    expect(next.error?.code).toBe('DEPENDENCY_FAILED');
  });
});

describe('retryDelayMs', () => {
  const never = () => {
    throw new Error('random must not be drawn without jitter');
  };
  const p = (strategy: RetryPolicy['strategy'], delayMs = 1_000, maxDelayMs = 1_000_000): RetryPolicy => ({
    strategy,
    delayMs,
    maxDelayMs,
    jitter: 'none',
  });

  it('fixed: delayMs for every n', () => {
    expect([1, 2, 3, 10].map((n) => retryDelayMs(p('fixed'), n, never))).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('linear: delayMs · n', () => {
    expect([1, 2, 3, 10].map((n) => retryDelayMs(p('linear'), n, never))).toEqual([1_000, 2_000, 3_000, 10_000]);
  });

  it('exponential: delayMs · 2^(n-1)', () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(p('exponential'), n, never))).toEqual([
      1_000, 2_000, 4_000, 8_000, 512_000,
    ]);
  });

  it('every strategy is capped by maxDelayMs', () => {
    expect(retryDelayMs(p('fixed', 10_000, 3_000), 1, never)).toBe(3_000);
    expect(retryDelayMs(p('linear', 1_000, 3_500), 5, never)).toBe(3_500);
    expect(retryDelayMs(p('exponential', 1_000, 5_000), 4, never)).toBe(5_000);
  });

  it('full jitter draws in [0, delay]: random 0 → 0, random just under 1 → at most delay', () => {
    const jittered: RetryPolicy = { ...p('exponential'), jitter: 'full' };
    expect(retryDelayMs(jittered, 3, () => 0)).toBe(0);
    const high = retryDelayMs(jittered, 3, () => 0.999_999_999_999);
    expect(high).toBeLessThanOrEqual(4_000);
    expect(high).toBeGreaterThanOrEqual(3_999);
    for (const r of [0.1, 0.5, 0.9]) {
      const d = retryDelayMs(jittered, 3, () => r);
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4_000);
    }
  });

  it('full jitter is bounded by the cap, not by the uncapped delay', () => {
    const jittered: RetryPolicy = { strategy: 'exponential', delayMs: 1_000, maxDelayMs: 5_000, jitter: 'full' };
    expect(retryDelayMs(jittered, 20, () => 0.999_999_999_999)).toBeLessThanOrEqual(5_000);
  });

  it('a huge n neither overflows nor escapes the cap', () => {
    const cap = 300_000;
    for (const strategy of ['linear', 'exponential'] as const) {
      for (const n of [1_024, 1_025, 1e9, Number.MAX_SAFE_INTEGER, Infinity]) {
        const d = retryDelayMs(p(strategy, 1_000, cap), n, never);
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBe(cap);
      }
    }
    const huge = retryDelayMs(
      { ...p('exponential', 1_000, Number.MAX_SAFE_INTEGER), jitter: 'full' },
      5_000,
      () => 0.5,
    );
    expect(Number.isFinite(huge)).toBe(true);
    expect(huge).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
  });
});
