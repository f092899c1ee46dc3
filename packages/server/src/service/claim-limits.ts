/**
 * What a claim must respect inside the caller's unit of work: a type's concurrency and rate limit
 * (counted under the type's lock, so every node spends them one claimer at a time) and a task's
 * runAt. Shared by the claims by type and by id (WorkerService) and by an update that takes a task
 * for an agent (TaskUpdater), so every way of claiming holds the same limits.
 *
 * Lock order: a type's lock before any task row (claimable takes the rows after the type's lock), so
 * units that claim cannot wait on each other in a circle.
 */
import { TasklaneError } from '../domain/errors.js';
import { DEFAULT_LEASE_MS, type Task } from '../domain/task.js';
import type { StoreWriter, TypeConfig } from '../storage/task-store.js';
import { newLeaseId } from './ids.js';
import type { TaskWriter } from './task-writer.js';

/** The type's settings, locked for this unit when they carry a limit. */
export async function typeForClaim(tx: StoreWriter, orgId: string, type: string): Promise<TypeConfig | null> {
  const config = await tx.getTypeConfig(orgId, type);
  return config !== null && (config.concurrency !== null || config.rateLimit !== null)
    ? tx.lockType(orgId, type)
    : config;
}

/**
 * How many tasks of this type one claim may still take (the limit, minus concurrency and rate
 * use), and, when the rate limit is what stops it, when the window frees the next claim.
 */
export async function allowanceOf(
  tx: StoreWriter,
  orgId: string,
  type: string,
  config: TypeConfig | null,
  limit: number,
): Promise<{ allowed: number; refillAt: number | null }> {
  let allowed = limit;
  let refillAt: number | null = null;
  if (config?.concurrency != null) {
    allowed = Math.min(allowed, config.concurrency - (await tx.countInProgress(orgId, type)));
  }
  if (config?.rateLimit != null) {
    const since = tx.now - config.rateLimit.perMs + 1;
    const left = config.rateLimit.count - (await tx.countClaims(orgId, since, type));
    if (left <= 0) {
      const first = await tx.firstClaimSince(orgId, type, since);
      refillAt = first === null ? tx.now + 1 : first + config.rateLimit.perMs;
    }
    allowed = Math.min(allowed, left);
  }
  return { allowed: Math.max(0, allowed), refillAt };
}

export interface ClaimOneInput {
  workerId: string;
  /** The lease asked for; else the task's, else the type's default, else `defaultLeaseMs`. */
  leaseMs?: number | undefined;
  /** The lease when neither the claim, the task nor its type names one (DEFAULT_LEASE_MS unless given). */
  defaultLeaseMs?: number | undefined;
}

/**
 * Claim one given task this unit holds locked, whose type's settings `typeForClaim` read (and locked)
 * before the row: not before its runAt, not past its type's limits; the claim is logged.
 */
export async function claimTask(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  config: TypeConfig | null,
  input: ClaimOneInput,
): Promise<Task> {
  if (task.status === 'queued' && task.runAt !== null && task.runAt > tx.now) {
    throw new TasklaneError(
      'INVALID_TRANSITION',
      `The task is not claimable before ${new Date(task.runAt).toISOString()}.`,
    );
  }
  if (task.status === 'queued' && (await allowanceOf(tx, task.orgId, task.type, config, 1)).allowed < 1) {
    throw new TasklaneError('RATE_LIMITED', `Type '${task.type}' is at its concurrency or rate limit.`, {
      headers: { 'retry-after': '1' },
    });
  }
  const leaseMs = input.leaseMs ?? task.leaseMs ?? config?.defaults.leaseMs ?? input.defaultLeaseMs ?? DEFAULT_LEASE_MS;
  const next = await writer.transition(tx, task, {
    name: 'claim',
    leaseId: newLeaseId(),
    workerId: input.workerId,
    leaseMs,
  });
  await tx.recordClaims(task.orgId, [{ type: next.type, count: 1 }]);
  return next;
}
