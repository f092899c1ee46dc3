/** Task record ↔ SQLite row. JSON columns are text; booleans are 0/1. */
import type { TaskStatus } from '../../domain/status.js';
import type { BlockKind, DependencyFailurePolicy, Json, RetryPolicy, Task, TaskErrorInfo } from '../../domain/task.js';
import { TASK_COLUMNS, columnValue, type TaskColumn } from '../task-columns.js';
import { documentExpression, type DocumentDialect } from '../task-document.js';

export { TASK_COLUMNS };

/**
 * A task row as the statements of this adapter read it: an array in TASK_COLUMNS order (raw mode).
 * better-sqlite3 builds an array of 49 values in half the time it takes to build an object with 49
 * keys, and a task is read on every claim and every report.
 */
export type TaskRow = [
  org_id: string,
  id: string,
  project_id: string | null,
  identifier: string | null,
  list_id: string | null,
  type: string,
  title: string,
  description: string | null,
  input: string,
  status: string,
  priority: number,
  progress: number | null,
  progress_message: string | null,
  result: string,
  error: string | null,
  attempt: number,
  retry_count: number,
  max_retries: number,
  retry_policy: string,
  lease_ms: number | null,
  timeout_ms: number | null,
  run_at: number | null,
  depends_on: string,
  blocked_by: string,
  blocked_reason: string | null,
  block_kind: string | null,
  on_dependency_failure: string,
  assignee: string | null,
  created_by: string | null,
  poll_count: number,
  requires_review: number,
  metadata: string,
  labels: string,
  idempotency_key: string | null,
  ttl_seconds: number,
  version: number,
  created_at: number,
  updated_at: number,
  queued_at: number | null,
  started_at: number | null,
  completed_at: number | null,
  blocked_at: number | null,
  archived_at: number | null,
  expires_at: number | null,
  timeout_at: number | null,
  lease_id: string | null,
  lease_worker_id: string | null,
  lease_expires_at: number | null,
  lease_length_ms: number | null,
];

/** A task's values in TASK_COLUMNS order, as the positional parameters of a statement. */
export function taskValues(t: Task, columns: readonly TaskColumn[] = TASK_COLUMNS): unknown[] {
  return columns.map((c) => sqliteValue(c, t));
}

/** One column's value for SQLite, which has no booleans. */
export function sqliteValue(column: TaskColumn, t: Task): unknown {
  const v = columnValue(column, t);
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export function rowToTask(row: readonly unknown[]): Task {
  const [
    org_id,
    id,
    project_id,
    identifier,
    list_id,
    type,
    title,
    description,
    input,
    status,
    priority,
    progress,
    progress_message,
    result,
    error,
    attempt,
    retry_count,
    max_retries,
    retry_policy,
    lease_ms,
    timeout_ms,
    run_at,
    depends_on,
    blocked_by,
    blocked_reason,
    block_kind,
    on_dependency_failure,
    assignee,
    created_by,
    poll_count,
    requires_review,
    metadata,
    labels,
    idempotency_key,
    ttl_seconds,
    version,
    created_at,
    updated_at,
    queued_at,
    started_at,
    completed_at,
    blocked_at,
    archived_at,
    expires_at,
    timeout_at,
    lease_id,
    lease_worker_id,
    lease_expires_at,
    lease_length_ms,
  ] = row as TaskRow;
  return {
    id: id,
    orgId: org_id,
    projectId: project_id,
    identifier: identifier,
    listId: list_id,
    type: type,
    title: title,
    description: description,
    input: JSON.parse(input) as Json,
    status: status as TaskStatus,
    priority: priority,
    progress: progress,
    progressMessage: progress_message,
    result: JSON.parse(result) as Json,
    error: error === null ? null : (JSON.parse(error) as TaskErrorInfo),
    attempt: attempt,
    retryCount: retry_count,
    maxRetries: max_retries,
    retryPolicy: JSON.parse(retry_policy) as RetryPolicy,
    leaseMs: lease_ms,
    timeoutMs: timeout_ms,
    runAt: run_at,
    dependsOn: JSON.parse(depends_on) as string[],
    blockedBy: JSON.parse(blocked_by) as string[],
    blockedReason: blocked_reason,
    blockKind: block_kind as BlockKind | null,
    onDependencyFailure: on_dependency_failure as DependencyFailurePolicy,
    assignee: assignee,
    createdBy: created_by,
    pollCount: poll_count,
    requiresReview: requires_review === 1,
    metadata: JSON.parse(metadata) as Task['metadata'],
    labels: JSON.parse(labels) as string[],
    idempotencyKey: idempotency_key,
    ttlSeconds: ttl_seconds,
    version: version,
    createdAt: created_at,
    updatedAt: updated_at,
    queuedAt: queued_at,
    startedAt: started_at,
    completedAt: completed_at,
    blockedAt: blocked_at,
    archivedAt: archived_at,
    expiresAt: expires_at,
    timeoutAt: timeout_at,
    lease:
      lease_id === null || lease_worker_id === null || lease_expires_at === null
        ? null
        : {
            id: lease_id,
            workerId: lease_worker_id,
            expiresAt: lease_expires_at,
            lengthMs: lease_length_ms ?? lease_expires_at - updated_at,
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

/** Statements that read task rows select exactly these, in this order (see TaskRow). */
export const TASK_SELECT = `SELECT ${TASK_COLUMNS.join(', ')} FROM tasks`;

const TASK_DOCUMENT_SELECT = `SELECT t.id, t.status, t.version, ${documentExpression(SQLITE_DOCUMENT)} AS json FROM tasks t`;
/** Whole texts, built once: the statement cache looks them up by text on every call. */
export const TASK_DOCUMENT_BY_ID_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.id = ?`;
export const TASK_DOCUMENT_BY_IDENTIFIER_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.identifier = ?`;
