/**
 * The columns of a task row, shared by the adapters, and the record field each one holds.
 *
 * An update writes only the columns whose field changed (`changedColumns`), so the database
 * rewrites only the indexes over those and a large unchanged JSON value (input, metadata) is not
 * serialized or written again. Fields are compared by identity: a transition copies the fields it
 * does not change (`{ ...task, status }`), so a JSON field holding a new object counts as changed
 * even when its content is equal, which costs a write and is never wrong.
 */
import type { Task } from '../domain/task.js';

// prettier-ignore
export const TASK_COLUMNS = [
  'org_id', 'id', 'project_id', 'identifier', 'list_id', 'type', 'title', 'description', 'input',
  'status', 'priority', 'progress', 'progress_message', 'result', 'error', 'attempt', 'retry_count',
  'max_retries', 'retry_policy', 'lease_ms', 'timeout_ms', 'run_at', 'depends_on', 'blocked_by',
  'blocked_reason', 'block_kind', 'on_dependency_failure', 'assignee', 'created_by', 'poll_count',
  'requires_review', 'metadata', 'labels', 'idempotency_key', 'ttl_seconds', 'version', 'created_at',
  'updated_at', 'queued_at', 'started_at', 'completed_at', 'blocked_at', 'archived_at', 'expires_at',
  'timeout_at', 'lease_id', 'lease_worker_id', 'lease_expires_at', 'lease_length_ms',
] as const;

export type TaskColumn = (typeof TASK_COLUMNS)[number];

/** Columns stored as JSON text (jsonb on PostgreSQL). */
export const JSON_COLUMNS: ReadonlySet<TaskColumn> = new Set([
  'input',
  'result',
  'error',
  'retry_policy',
  'depends_on',
  'blocked_by',
  'metadata',
  'labels',
]);

const FIELD_OF: { readonly [C in TaskColumn]: (t: Task) => unknown } = {
  org_id: (t) => t.orgId,
  id: (t) => t.id,
  project_id: (t) => t.projectId,
  identifier: (t) => t.identifier,
  list_id: (t) => t.listId,
  type: (t) => t.type,
  title: (t) => t.title,
  description: (t) => t.description,
  input: (t) => t.input,
  status: (t) => t.status,
  priority: (t) => t.priority,
  progress: (t) => t.progress,
  progress_message: (t) => t.progressMessage,
  result: (t) => t.result,
  error: (t) => t.error,
  attempt: (t) => t.attempt,
  retry_count: (t) => t.retryCount,
  max_retries: (t) => t.maxRetries,
  retry_policy: (t) => t.retryPolicy,
  lease_ms: (t) => t.leaseMs,
  timeout_ms: (t) => t.timeoutMs,
  run_at: (t) => t.runAt,
  depends_on: (t) => t.dependsOn,
  blocked_by: (t) => t.blockedBy,
  blocked_reason: (t) => t.blockedReason,
  block_kind: (t) => t.blockKind,
  on_dependency_failure: (t) => t.onDependencyFailure,
  assignee: (t) => t.assignee,
  created_by: (t) => t.createdBy,
  poll_count: (t) => t.pollCount,
  requires_review: (t) => t.requiresReview,
  metadata: (t) => t.metadata,
  labels: (t) => t.labels,
  idempotency_key: (t) => t.idempotencyKey,
  ttl_seconds: (t) => t.ttlSeconds,
  version: (t) => t.version,
  created_at: (t) => t.createdAt,
  updated_at: (t) => t.updatedAt,
  queued_at: (t) => t.queuedAt,
  started_at: (t) => t.startedAt,
  completed_at: (t) => t.completedAt,
  blocked_at: (t) => t.blockedAt,
  archived_at: (t) => t.archivedAt,
  expires_at: (t) => t.expiresAt,
  timeout_at: (t) => t.timeoutAt,
  lease_id: (t) => t.lease?.id ?? null,
  lease_worker_id: (t) => t.lease?.workerId ?? null,
  lease_expires_at: (t) => t.lease?.expiresAt ?? null,
  lease_length_ms: (t) => t.lease?.lengthMs ?? null,
};

const UPDATABLE = TASK_COLUMNS.filter((c) => c !== 'org_id' && c !== 'id');

/**
 * The value a column stores, as a statement parameter: JSON columns as JSON text (a null error
 * as SQL NULL), booleans as booleans (an adapter whose database has none converts them).
 */
export function columnValue(column: TaskColumn, t: Task): unknown {
  const v = FIELD_OF[column](t);
  if (!JSON_COLUMNS.has(column)) return v;
  return v === null && column === 'error' ? null : JSON.stringify(v);
}

/** The columns (never org_id or id) whose field differs between two records of one task. */
export function changedColumns(before: Task, after: Task): TaskColumn[] {
  return UPDATABLE.filter((c) => FIELD_OF[c](before) !== FIELD_OF[c](after));
}
