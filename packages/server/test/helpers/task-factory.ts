/**
 * Task records for tests: a full, valid `Task` with every field set, and one shaped like a task
 * that reached a given status through the lifecycle. Deterministic: fixed times, ids from a counter.
 */
import type { TaskStatus } from '../../src/domain/status.js';
import { DEFAULT_RETRY_POLICY, type Json, type Task } from '../../src/domain/task.js';
import type { EventType, NewEvent } from '../../src/storage/task-store.js';

/** The ManualClock's default time: 2026-01-01T00:00:00.000Z. */
export const T0 = Date.UTC(2026, 0, 1);

export const ORG_A = 'org_a';
export const ORG_B = 'org_b';

/**
 * A lower-case UUIDv7 whose timestamp is `T0 + n` ms, so ids sort (as strings) in the order of `n`,
 * as real UUIDv7 ids sort in creation order.
 */
export function uuidV7(n: number): string {
  const hex = (T0 + n).toString(16).padStart(12, '0');
  const tail = n.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

/** Increasing ids, one sequence per test (no process-wide counter). */
export function idSequence(start = 1): () => string {
  let n = start;
  return () => uuidV7(n++);
}

/** A full, valid task: queued, never claimed, version 1. */
export function makeTask(overrides: Partial<Task> = {}): Task {
  return {
    id: uuidV7(1),
    orgId: ORG_A,
    projectId: null,
    identifier: null,
    listId: null,
    type: 'email.send',
    title: 'email.send',
    description: null,
    input: null,
    status: 'queued',
    priority: 0,
    progress: null,
    progressMessage: null,
    result: null,
    error: null,
    attempt: 0,
    retryCount: 0,
    maxRetries: 3,
    retryPolicy: { ...DEFAULT_RETRY_POLICY },
    leaseMs: null,
    timeoutMs: null,
    runAt: null,
    dependsOn: [],
    blockedBy: [],
    blockedReason: null,
    blockKind: null,
    onDependencyFailure: 'cancel',
    assignee: null,
    createdBy: 'test-key',
    pollCount: 0,
    requiresReview: false,
    metadata: {},
    labels: [],
    idempotencyKey: null,
    ttlSeconds: 3600,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    queuedAt: T0,
    startedAt: null,
    completedAt: null,
    blockedAt: null,
    archivedAt: null,
    expiresAt: null,
    timeoutAt: null,
    claimedAt: null,
    lease: null,
    ...overrides,
  };
}

/** An event of `task` (its org, type, list and project) with this type and data. */
export function eventOf(task: Task, type: EventType, data: Json = null): NewEvent {
  return {
    orgId: task.orgId,
    taskId: task.id,
    type,
    taskType: task.type,
    listId: task.listId,
    projectId: task.projectId,
    data,
  };
}

/** A task as the lifecycle leaves it in `status` (lease for in_progress, manual block, terminal times). */
export function taskInStatus(status: TaskStatus, overrides: Partial<Task> = {}): Task {
  const claimed: Partial<Task> = {
    attempt: 1,
    pollCount: 1,
    startedAt: T0 + 1_000,
    assignee: 'worker-1',
    leaseMs: 30_000,
  };
  const ended = (at: number): Partial<Task> => ({ completedAt: at, expiresAt: at + 3600 * 1000 });
  const byStatus: Record<TaskStatus, Partial<Task>> = {
    backlog: { queuedAt: null },
    blocked: { queuedAt: null, blockKind: 'manual', blockedReason: 'Waiting for legal.', blockedAt: T0 },
    queued: {},
    in_progress: {
      ...claimed,
      lease: { id: 'lease-1', workerId: 'worker-1', expiresAt: T0 + 31_000, lengthMs: 30_000 },
      timeoutMs: 60_000,
      timeoutAt: T0 + 61_000,
    },
    needs_review: { ...claimed, result: { draft: true } },
    completed: { ...claimed, ...ended(T0 + 2_000), progress: 1, result: { ok: true } },
    failed: {
      ...claimed,
      ...ended(T0 + 2_000),
      error: { code: 'TASK_FAILED', message: 'boom', retryable: false },
    },
    canceled: { ...ended(T0 + 2_000) },
  };
  return makeTask({ status, version: 4, updatedAt: T0 + 2_000, ...byStatus[status], ...overrides });
}

/** Freeze a value and everything it holds, so any mutation of it throws (ESM code is strict). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
