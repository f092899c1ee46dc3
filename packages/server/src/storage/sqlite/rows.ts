/** Task record ↔ SQLite row. JSON columns are text; booleans are 0/1. */
import type { TaskStatus } from '../../domain/status.js';
import type { BlockKind, DependencyFailurePolicy, Json, RetryPolicy, Task, TaskErrorInfo } from '../../domain/task.js';

export interface TaskRow {
  org_id: string;
  id: string;
  project_id: string | null;
  identifier: string | null;
  list_id: string | null;
  type: string;
  title: string;
  description: string | null;
  input: string;
  status: string;
  priority: number;
  progress: number | null;
  progress_message: string | null;
  result: string;
  error: string | null;
  attempt: number;
  retry_count: number;
  max_retries: number;
  retry_policy: string;
  lease_ms: number | null;
  timeout_ms: number | null;
  run_at: number | null;
  depends_on: string;
  blocked_by: string;
  blocked_reason: string | null;
  block_kind: string | null;
  on_dependency_failure: string;
  assignee: string | null;
  created_by: string | null;
  poll_count: number;
  requires_review: number;
  metadata: string;
  labels: string;
  idempotency_key: string | null;
  ttl_seconds: number;
  version: number;
  created_at: number;
  updated_at: number;
  queued_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  blocked_at: number | null;
  archived_at: number | null;
  expires_at: number | null;
  timeout_at: number | null;
  lease_id: string | null;
  lease_worker_id: string | null;
  lease_expires_at: number | null;
  lease_length_ms: number | null;
}

export const TASK_COLUMNS = [
  'org_id',
  'id',
  'project_id',
  'identifier',
  'list_id',
  'type',
  'title',
  'description',
  'input',
  'status',
  'priority',
  'progress',
  'progress_message',
  'result',
  'error',
  'attempt',
  'retry_count',
  'max_retries',
  'retry_policy',
  'lease_ms',
  'timeout_ms',
  'run_at',
  'depends_on',
  'blocked_by',
  'blocked_reason',
  'block_kind',
  'on_dependency_failure',
  'assignee',
  'created_by',
  'poll_count',
  'requires_review',
  'metadata',
  'labels',
  'idempotency_key',
  'ttl_seconds',
  'version',
  'created_at',
  'updated_at',
  'queued_at',
  'started_at',
  'completed_at',
  'blocked_at',
  'archived_at',
  'expires_at',
  'timeout_at',
  'lease_id',
  'lease_worker_id',
  'lease_expires_at',
  'lease_length_ms',
] as const satisfies ReadonlyArray<keyof TaskRow>;

export function taskToRow(t: Task): TaskRow {
  return {
    org_id: t.orgId,
    id: t.id,
    project_id: t.projectId,
    identifier: t.identifier,
    list_id: t.listId,
    type: t.type,
    title: t.title,
    description: t.description,
    input: JSON.stringify(t.input),
    status: t.status,
    priority: t.priority,
    progress: t.progress,
    progress_message: t.progressMessage,
    result: JSON.stringify(t.result),
    error: t.error === null ? null : JSON.stringify(t.error),
    attempt: t.attempt,
    retry_count: t.retryCount,
    max_retries: t.maxRetries,
    retry_policy: JSON.stringify(t.retryPolicy),
    lease_ms: t.leaseMs,
    timeout_ms: t.timeoutMs,
    run_at: t.runAt,
    depends_on: JSON.stringify(t.dependsOn),
    blocked_by: JSON.stringify(t.blockedBy),
    blocked_reason: t.blockedReason,
    block_kind: t.blockKind,
    on_dependency_failure: t.onDependencyFailure,
    assignee: t.assignee,
    created_by: t.createdBy,
    poll_count: t.pollCount,
    requires_review: t.requiresReview ? 1 : 0,
    metadata: JSON.stringify(t.metadata),
    labels: JSON.stringify(t.labels),
    idempotency_key: t.idempotencyKey,
    ttl_seconds: t.ttlSeconds,
    version: t.version,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    queued_at: t.queuedAt,
    started_at: t.startedAt,
    completed_at: t.completedAt,
    blocked_at: t.blockedAt,
    archived_at: t.archivedAt,
    expires_at: t.expiresAt,
    timeout_at: t.timeoutAt,
    lease_id: t.lease?.id ?? null,
    lease_worker_id: t.lease?.workerId ?? null,
    lease_expires_at: t.lease?.expiresAt ?? null,
    lease_length_ms: t.lease?.lengthMs ?? null,
  };
}

export function rowToTask(r: TaskRow): Task {
  return {
    id: r.id,
    orgId: r.org_id,
    projectId: r.project_id,
    identifier: r.identifier,
    listId: r.list_id,
    type: r.type,
    title: r.title,
    description: r.description,
    input: JSON.parse(r.input) as Json,
    status: r.status as TaskStatus,
    priority: r.priority,
    progress: r.progress,
    progressMessage: r.progress_message,
    result: JSON.parse(r.result) as Json,
    error: r.error === null ? null : (JSON.parse(r.error) as TaskErrorInfo),
    attempt: r.attempt,
    retryCount: r.retry_count,
    maxRetries: r.max_retries,
    retryPolicy: JSON.parse(r.retry_policy) as RetryPolicy,
    leaseMs: r.lease_ms,
    timeoutMs: r.timeout_ms,
    runAt: r.run_at,
    dependsOn: JSON.parse(r.depends_on) as string[],
    blockedBy: JSON.parse(r.blocked_by) as string[],
    blockedReason: r.blocked_reason,
    blockKind: r.block_kind as BlockKind | null,
    onDependencyFailure: r.on_dependency_failure as DependencyFailurePolicy,
    assignee: r.assignee,
    createdBy: r.created_by,
    pollCount: r.poll_count,
    requiresReview: r.requires_review === 1,
    metadata: JSON.parse(r.metadata) as Task['metadata'],
    labels: JSON.parse(r.labels) as string[],
    idempotencyKey: r.idempotency_key,
    ttlSeconds: r.ttl_seconds,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    blockedAt: r.blocked_at,
    archivedAt: r.archived_at,
    expiresAt: r.expires_at,
    timeoutAt: r.timeout_at,
    lease:
      r.lease_id === null || r.lease_worker_id === null || r.lease_expires_at === null
        ? null
        : {
            id: r.lease_id,
            workerId: r.lease_worker_id,
            expiresAt: r.lease_expires_at,
            lengthMs: r.lease_length_ms ?? r.lease_expires_at - r.updated_at,
          },
  };
}
