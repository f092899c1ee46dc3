/** QuantCDN's task object (seed 003) from a native task, and the status map (SPEC §11). */
import type { TaskStatus } from '../../domain/status.js';
import type { Task } from '../../domain/task.js';
import { asObject } from './dialect-kit.js';

export type QuantStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'blocked';

/** Native → Quant statuses (SPEC §11). */
export const QUANT_STATUS: Record<TaskStatus, QuantStatus> = {
  backlog: 'pending',
  queued: 'pending',
  blocked: 'blocked',
  in_progress: 'in_progress',
  needs_review: 'in_progress',
  completed: 'completed',
  failed: 'failed',
  canceled: 'cancelled',
};
export const QUANT_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled', 'blocked'] as const;
export const quantStatusOf = (t: Task): QuantStatus => QUANT_STATUS[t.status];

/**
 * The seed's task object: ms times, `error` as a string. Fields the seed types as non-null strings are ''
 * when unset (progress 0); `result`, absent from the seed's example, is left out until there is one.
 */
export function presentQuantTask(t: Task) {
  const result = asObject(t.result);
  return {
    taskId: t.id,
    orgId: t.orgId,
    taskListId: t.listId,
    title: t.title,
    description: t.description ?? '',
    status: quantStatusOf(t),
    assignedAgentId: t.assignee,
    createdByAgentId: t.createdBy,
    dependsOn: t.dependsOn,
    metadata: t.metadata,
    progress: t.progress ?? 0,
    progressMessage: t.progressMessage ?? '',
    ...(result === null ? {} : { result }),
    error: t.error?.message ?? null,
    retryCount: t.retryCount,
    maxRetries: t.maxRetries,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    startedAt: t.startedAt,
    completedAt: t.completedAt,
    expiresAt: t.expiresAt,
    blockedReason: t.blockedReason,
    blockedByTaskIds: t.blockedBy,
    blockedAt: t.blockedAt,
  };
}
