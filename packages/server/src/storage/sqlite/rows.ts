/** Task record ↔ SQLite row. JSON columns are text; booleans are 0/1. */
import type { TaskStatus } from '../../domain/status.js';
import type { BlockKind, DependencyFailurePolicy, Json, RetryPolicy, Task, TaskErrorInfo } from '../../domain/task.js';
import { TASK_COLUMNS, columnValue, type TaskColumn } from '../task-columns.js';
import { documentExpression, type DocumentDialect } from '../task-document.js';

export { TASK_COLUMNS };

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

/** A task's values in TASK_COLUMNS order, as the positional parameters of a statement. */
export function taskValues(t: Task, columns: readonly TaskColumn[] = TASK_COLUMNS): unknown[] {
  return columns.map((c) => sqliteValue(c, t));
}

/** One column's value for SQLite, which has no booleans. */
export function sqliteValue(column: TaskColumn, t: Task): unknown {
  const v = columnValue(column, t);
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
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

/** The task document (task-document.ts) in SQLite's JSON functions. */
const SQLITE_DOCUMENT: DocumentDialect = {
  object: (pairs) => `json_object(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')})`,
  value: (c) => c,
  // json() also gives the value JSON's subtype, which json_object needs to embed it as JSON.
  json: (c) => `json(${c})`,
  // Whole seconds by strftime, milliseconds by integer arithmetic: no float rounding anywhere.
  time: (c) =>
    `CASE WHEN ${c} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', ${c} / 1000, 'unixepoch') || printf('.%03dZ', ${c} % 1000) END`,
  bool: (c) => `json(CASE WHEN ${c} THEN 'true' ELSE 'false' END)`,
  steps: (step) =>
    `json((SELECT json_group_array(${step} ORDER BY s.seq) FROM steps s WHERE s.org_id = t.org_id AND s.task_id = t.id))`,
};

const TASK_DOCUMENT_SELECT = `SELECT t.id, t.status, t.version, ${documentExpression(SQLITE_DOCUMENT)} AS json FROM tasks t`;
/** Whole texts, built once: the statement cache looks them up by text on every call. */
export const TASK_DOCUMENT_BY_ID_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.id = ?`;
export const TASK_DOCUMENT_BY_IDENTIFIER_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.identifier = ?`;
