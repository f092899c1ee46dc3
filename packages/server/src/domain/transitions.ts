/**
 * The lifecycle of a task (SPEC §3) as one table, and the one function every change goes through.
 *
 * `TRANSITIONS` says, for each event, the statuses it may start from and the statuses it may lead
 * to. `applyTransition` refuses any (status, event) pair that is not in the table with
 * INVALID_TRANSITION, computes the next record (status, timestamps, counters, lease), and checks
 * that the status it reached is one the table allows. docs/lifecycle.md is generated from it.
 */
import { TasklaneError } from './errors.js';
import { retryDelayMs } from './retry.js';
import { ACTIVE_STATUSES, isTerminal, type TaskStatus } from './status.js';
import type { Json, Task, TaskErrorInfo } from './task.js';

/** `new` stands for "no record yet": the only status `create` starts from. */
export type FromStatus = TaskStatus | 'new';

export const TRANSITIONS = {
  create: { from: ['new'], to: ['backlog', 'blocked', 'queued', 'canceled'] },
  start: { from: ['backlog'], to: ['blocked', 'queued', 'canceled'] },
  dependency_completed: { from: ['blocked'], to: ['queued', 'blocked'] },
  dependency_failed: { from: ['blocked'], to: ['canceled', 'queued', 'blocked'] },
  claim: { from: ['queued'], to: ['in_progress'] },
  heartbeat: { from: ['in_progress'], to: ['in_progress'] },
  release: { from: ['in_progress'], to: ['queued'] },
  complete: { from: ['in_progress'], to: ['completed', 'needs_review'] },
  fail: { from: ['in_progress'], to: ['queued', 'failed'] },
  lease_expired: { from: ['in_progress'], to: ['queued', 'failed'] },
  timeout: { from: ['in_progress'], to: ['queued', 'failed'] },
  approve: { from: ['needs_review'], to: ['completed'] },
  reject: { from: ['needs_review'], to: ['queued', 'failed'] },
  block: { from: ACTIVE_STATUSES, to: ['blocked'] },
  unblock: { from: ['blocked'], to: ['queued', 'blocked', 'canceled'] },
  cancel: { from: ACTIVE_STATUSES, to: ['canceled'] },
  retry: { from: ['failed', 'canceled'], to: ['queued', 'blocked'] },
} as const satisfies Record<string, { from: readonly FromStatus[]; to: readonly TaskStatus[] }>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/**
 * What the service knows about a task's dependencies when it asks for a transition:
 * `open` are the ids it still waits for, `failed` the ones that failed or were canceled and,
 * under `onDependencyFailure = cancel`, doom it.
 */
export interface DependencyView {
  open: string[];
  failed: string[];
}

export type TransitionEvent =
  | { name: 'create'; start: boolean; deps: DependencyView }
  | { name: 'start'; deps: DependencyView }
  | { name: 'dependency_completed'; deps: DependencyView }
  | { name: 'dependency_failed'; deps: DependencyView }
  | { name: 'claim'; leaseId: string; workerId: string; leaseMs: number }
  | {
      name: 'heartbeat';
      extendMs?: number | undefined;
      progress?: number | undefined;
      progressMessage?: string | undefined;
    }
  | { name: 'release'; delayMs?: number | undefined }
  | { name: 'complete'; result?: Json | undefined; review?: boolean | undefined }
  | {
      name: 'fail';
      error: { code?: string | undefined; message: string; details?: Json | undefined };
      retryable?: boolean | undefined;
      retryAfterMs?: number | undefined;
    }
  | { name: 'lease_expired' }
  | { name: 'timeout' }
  | { name: 'approve' }
  | { name: 'reject'; requeue?: boolean | undefined; reason?: string | undefined }
  | { name: 'block'; reason?: string | undefined }
  | { name: 'unblock'; deps: DependencyView }
  | { name: 'cancel'; reason?: string | undefined }
  | { name: 'retry'; deps: DependencyView };

export interface TransitionContext {
  now: number;
  /** Uniform in [0, 1); passed in so that jitter is deterministic under test. */
  random: () => number;
}

export function canTransition(from: FromStatus, name: TransitionName): boolean {
  return (TRANSITIONS[name].from as readonly FromStatus[]).includes(from);
}

/**
 * Apply `event` to `task` (for `create`, the draft record with status ignored) and return the next
 * record, version +1. Throws INVALID_TRANSITION, changing nothing, when the table has no such move.
 */
export function applyTransition(task: Task, event: TransitionEvent, ctx: TransitionContext): Task {
  const from: FromStatus = event.name === 'create' ? 'new' : task.status;
  if (!canTransition(from, event.name)) {
    throw new TasklaneError('INVALID_TRANSITION', `A task in status '${from}' cannot ${event.name.replace('_', ' ')}.`);
  }
  const next = computeNext(task, event, ctx);
  const allowed = TRANSITIONS[event.name].to as readonly TaskStatus[];
  if (!allowed.includes(next.status)) {
    // A bug in computeNext, never a client error: the table is the contract.
    throw new Error(`transition ${event.name} reached ${next.status}, not in the table`);
  }
  next.version = event.name === 'create' ? 1 : task.version + 1;
  next.updatedAt = ctx.now;
  return next;
}

function computeNext(task: Task, event: TransitionEvent, ctx: TransitionContext): Task {
  const { now } = ctx;
  const t: Task = { ...task };
  switch (event.name) {
    case 'create':
      t.createdAt = now;
      if (!event.start) return enterBacklog(t);
      return settleDependencies(t, event.deps, now);
    case 'start':
      return settleDependencies(t, event.deps, now);
    case 'dependency_completed':
    case 'dependency_failed':
      // A manual block outlives its dependencies: only `unblock` lifts it.
      if (t.blockKind === 'manual') {
        if (event.name === 'dependency_failed' && event.deps.failed.length > 0) {
          return enterCanceled(t, now, dependencyFailedError(event.deps.failed));
        }
        return { ...t, blockedBy: event.deps.open };
      }
      return settleDependencies(t, event.deps, now);
    case 'claim':
      return {
        ...t,
        status: 'in_progress',
        attempt: t.attempt + 1,
        pollCount: t.pollCount + 1,
        startedAt: t.startedAt ?? now,
        claimedAt: now,
        runAt: null,
        assignee: event.workerId,
        lease: { id: event.leaseId, workerId: event.workerId, expiresAt: now + event.leaseMs, lengthMs: event.leaseMs },
        timeoutAt: t.timeoutMs === null ? null : now + t.timeoutMs,
      };
    case 'heartbeat': {
      const lease = t.lease;
      if (lease === null) throw new Error('in_progress task without a lease');
      return {
        ...t,
        lease: { ...lease, expiresAt: now + (event.extendMs ?? lease.lengthMs) },
        progress: event.progress ?? t.progress,
        progressMessage: event.progressMessage ?? t.progressMessage,
      };
    }
    case 'release':
      return enterQueued({ ...t, lease: null, timeoutAt: null }, now, event.delayMs ? now + event.delayMs : null);
    case 'complete':
      if (event.review === true || t.requiresReview) {
        return { ...t, status: 'needs_review', result: event.result ?? null, lease: null, timeoutAt: null };
      }
      return enterTerminal({ ...t, result: event.result ?? null, progress: 1 }, 'completed', now);
    case 'fail': {
      const retryable = event.retryable ?? true;
      const error: TaskErrorInfo = {
        code: event.error.code ?? 'TASK_FAILED',
        message: event.error.message,
        retryable,
        ...(event.error.details === undefined ? {} : { details: event.error.details }),
      };
      return failAttempt(t, error, ctx, event.retryAfterMs);
    }
    case 'lease_expired':
      // No backoff: the worker is presumed dead, the task goes back at once.
      return failAttempt(
        t,
        { code: 'LEASE_EXPIRED', message: 'The lease expired before the worker reported.', retryable: true },
        ctx,
        0,
      );
    case 'timeout':
      return failAttempt(
        t,
        {
          code: 'TIMED_OUT',
          message: `The attempt ran longer than timeoutMs (${t.timeoutMs ?? 0} ms).`,
          retryable: true,
        },
        ctx,
      );
    case 'approve':
      return enterTerminal(t, 'completed', now);
    case 'reject':
      if (event.requeue === true) return enterQueued(t, now, null);
      return enterTerminal(
        { ...t, error: { code: 'REJECTED', message: event.reason ?? 'Rejected in review.', retryable: false } },
        'failed',
        now,
      );
    case 'block':
      return {
        ...t,
        status: 'blocked',
        blockKind: 'manual',
        blockedReason: event.reason ?? 'Blocked manually.',
        blockedAt: now,
        lease: null,
        timeoutAt: null,
        runAt: null,
      };
    case 'unblock':
      if (t.blockKind !== 'manual') {
        throw new TasklaneError('INVALID_TRANSITION', 'The task waits for its dependencies; only they can unblock it.');
      }
      return settleDependencies({ ...t, blockKind: null, blockedReason: null }, event.deps, now);
    case 'cancel':
      return enterCanceled(t, now, t.error);
    case 'retry': {
      // A person asked for another go: the retry budget starts afresh (attempt keeps counting),
      // and the dependencies are looked at again. A dependency that is still failed would
      // cancel the task at once, so the retry is refused instead: retry the dependency first.
      if (event.deps.failed.length > 0) {
        throw new TasklaneError(
          'INVALID_TRANSITION',
          `A dependency is still failed or canceled (${event.deps.failed.join(', ')}); retry it first.`,
        );
      }
      const fresh: Task = { ...t, retryCount: 0, completedAt: null, expiresAt: null, runAt: null };
      return settleDependencies(fresh, event.deps, now);
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown transition ${JSON.stringify(unknown)}`);
    }
  }
}

/** A failed attempt: queued again while retries are left and the error is retryable, else failed. */
function failAttempt(t: Task, error: TaskErrorInfo, ctx: TransitionContext, retryAfterMs?: number): Task {
  const base: Task = { ...t, error, lease: null, timeoutAt: null };
  if (!error.retryable || t.retryCount >= t.maxRetries) return enterTerminal(base, 'failed', ctx.now);
  const n = t.retryCount + 1;
  const delay = retryAfterMs ?? retryDelayMs(t.retryPolicy, n, ctx.random);
  return enterQueued({ ...base, retryCount: n }, ctx.now, delay > 0 ? ctx.now + delay : null);
}

/** Queued, blocked or canceled, from what the dependencies say (create, start, a dependency settling). */
function settleDependencies(t: Task, deps: DependencyView, now: number): Task {
  if (deps.failed.length > 0) return enterCanceled(t, now, dependencyFailedError(deps.failed));
  if (deps.open.length > 0) {
    const already = t.status === 'blocked' && t.blockKind === 'dependencies';
    return {
      ...t,
      status: 'blocked',
      blockKind: 'dependencies',
      blockedBy: deps.open,
      blockedReason: `Waiting for ${deps.open.length} ${deps.open.length === 1 ? 'dependency' : 'dependencies'}.`,
      blockedAt: already ? t.blockedAt : now,
    };
  }
  return enterQueued(t, now, t.runAt);
}

function enterBacklog(t: Task): Task {
  return { ...t, status: 'backlog', queuedAt: null, blockedBy: [], blockedReason: null, blockKind: null };
}

function enterQueued(t: Task, now: number, runAt: number | null): Task {
  return {
    ...t,
    status: 'queued',
    queuedAt: now,
    runAt,
    blockedBy: [],
    blockedReason: null,
    blockKind: null,
    lease: null,
    timeoutAt: null,
  };
}

function enterCanceled(t: Task, now: number, error: TaskErrorInfo | null): Task {
  return enterTerminal({ ...t, error }, 'canceled', now);
}

function enterTerminal(t: Task, status: 'completed' | 'failed' | 'canceled', now: number): Task {
  if (!isTerminal(status)) throw new Error('not terminal');
  return {
    ...t,
    status,
    completedAt: now,
    expiresAt: now + t.ttlSeconds * 1000,
    lease: null,
    timeoutAt: null,
    runAt: null,
    blockedBy: [],
    blockedReason: null,
    blockKind: null,
  };
}

function dependencyFailedError(failed: string[]): TaskErrorInfo {
  return {
    code: 'DEPENDENCY_FAILED',
    message: `A dependency failed or was canceled: ${failed.join(', ')}.`,
    retryable: false,
    details: { dependencies: failed },
  };
}

/**
 * Summarise a task's dependencies for `applyTransition`. Under `cancel`, a failed or canceled
 * dependency dooms the task; under `run`, it counts as settled.
 */
export function viewDependencies(
  task: Pick<Task, 'onDependencyFailure'>,
  deps: ReadonlyArray<{ id: string; status: TaskStatus }>,
): DependencyView {
  const open: string[] = [];
  const failed: string[] = [];
  for (const dep of deps) {
    if (dep.status === 'completed') continue;
    if (dep.status === 'failed' || dep.status === 'canceled') {
      if (task.onDependencyFailure === 'cancel') failed.push(dep.id);
      continue;
    }
    open.push(dep.id);
  }
  return { open, failed };
}
