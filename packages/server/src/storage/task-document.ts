/**
 * The public document of a task (SPEC §2, the body of `GET /v1/tasks/{id}`), rendered by the
 * database in one statement.
 *
 * A GET is the hottest read of the service, and most of its cost used to be turning a 49-column
 * row into JavaScript values (seven JSON columns parsed, nine times formatted) only to serialize
 * them straight back. Both adapters instead build the JSON text in SQL from this one list, with
 * the task's steps in the same statement, so the route sends the database's string as it is.
 *
 * The list follows the wire schema (TaskSchema) field by field; a test pins the two together, the
 * conformance suite checks that each adapter's document parses to exactly the wire task of the
 * same task (test/helpers/wire-task.ts), and an HTTP test that `presentTask` makes the same
 * (test/http/task-document.test.ts). JSON values are embedded as the database keeps them: the
 * text is equal as JSON, not always byte for byte (PostgreSQL's jsonb puts a space after `:`; a
 * fraction such as 1/3 may carry a 17th digit that names the same double).
 */
import type { TaskStatus } from '../domain/status.js';
import type { TaskColumn } from './task-columns.js';

export interface TaskDocument {
  id: string;
  status: TaskStatus;
  version: number;
  /** The task as its wire JSON (TaskSchema): steps included, the lease without its id. */
  json: string;
}

/** A task found by its UUID or by its project identifier (`OPS-42`). */
export type TaskKey = { id: string } | { identifier: string };

export type DocumentField =
  /** A text or number column as it is. */
  | { name: string; kind: 'value'; column: TaskColumn }
  /** A JSON column (text in SQLite, jsonb in PostgreSQL), embedded as JSON. */
  | { name: string; kind: 'json'; column: TaskColumn }
  /** Epoch milliseconds as RFC 3339 with milliseconds in UTC, as Date#toISOString writes them. */
  | { name: string; kind: 'time'; column: TaskColumn }
  | { name: string; kind: 'bool'; column: TaskColumn }
  /** The task's steps in order: `{ time, message }`, with `data` only when a step has some. */
  | { name: string; kind: 'steps' }
  /** `{ workerId, expiresAt }` while a lease is held, else null. The lease id stays private. */
  | { name: string; kind: 'lease' };

const value = (name: string, column: TaskColumn): DocumentField => ({ name, kind: 'value', column });
const json = (name: string, column: TaskColumn): DocumentField => ({ name, kind: 'json', column });
const time = (name: string, column: TaskColumn): DocumentField => ({ name, kind: 'time', column });

export const TASK_DOCUMENT_FIELDS: readonly DocumentField[] = [
  value('id', 'id'),
  value('orgId', 'org_id'),
  value('projectId', 'project_id'),
  value('identifier', 'identifier'),
  value('listId', 'list_id'),
  value('type', 'type'),
  value('title', 'title'),
  value('description', 'description'),
  json('input', 'input'),
  value('status', 'status'),
  value('priority', 'priority'),
  value('progress', 'progress'),
  value('progressMessage', 'progress_message'),
  { name: 'steps', kind: 'steps' },
  json('result', 'result'),
  json('error', 'error'),
  value('attempt', 'attempt'),
  value('retryCount', 'retry_count'),
  value('maxRetries', 'max_retries'),
  json('retryPolicy', 'retry_policy'),
  value('leaseMs', 'lease_ms'),
  value('timeoutMs', 'timeout_ms'),
  time('runAt', 'run_at'),
  json('dependsOn', 'depends_on'),
  json('blockedBy', 'blocked_by'),
  value('blockedReason', 'blocked_reason'),
  value('onDependencyFailure', 'on_dependency_failure'),
  value('assignee', 'assignee'),
  value('createdBy', 'created_by'),
  value('pollCount', 'poll_count'),
  { name: 'requiresReview', kind: 'bool', column: 'requires_review' },
  json('metadata', 'metadata'),
  json('labels', 'labels'),
  value('idempotencyKey', 'idempotency_key'),
  value('version', 'version'),
  time('createdAt', 'created_at'),
  time('updatedAt', 'updated_at'),
  time('queuedAt', 'queued_at'),
  time('startedAt', 'started_at'),
  time('completedAt', 'completed_at'),
  time('blockedAt', 'blocked_at'),
  time('archivedAt', 'archived_at'),
  time('expiresAt', 'expires_at'),
  { name: 'lease', kind: 'lease' },
];

/** How one adapter writes each kind of field as an SQL expression over `tasks t`. */
export interface DocumentDialect {
  /** A JSON object from alternating key literals and value expressions, keys in this order. */
  object(pairs: ReadonlyArray<readonly [string, string]>): string;
  value(column: string): string;
  json(column: string): string;
  time(column: string): string;
  bool(column: string): string;
  /** The JSON array of `step` (an expression over `steps s`) for the task in `t`, in `s.seq` order. */
  steps(step: string): string;
}

/** The SQL expression of a task's whole document, for `SELECT … FROM tasks t`. */
export function documentExpression(d: DocumentDialect): string {
  const expr = (f: DocumentField): string => {
    switch (f.kind) {
      case 'value':
        return d.value(`t.${f.column}`);
      case 'json':
        return d.json(`t.${f.column}`);
      case 'time':
        return d.time(`t.${f.column}`);
      case 'bool':
        return d.bool(`t.${f.column}`);
      case 'steps': {
        const head = [
          ['time', d.time('s.time')],
          ['message', d.value('s.message')],
        ] as const;
        return d.steps(
          d.json(
            `CASE WHEN s.data IS NULL THEN ${d.object(head)} ELSE ${d.object([...head, ['data', d.json('s.data')]])} END`,
          ),
        );
      }
      case 'lease':
        // d.json: a value through CASE keeps its JSON type in every dialect.
        return d.json(`CASE WHEN t.lease_id IS NULL OR t.lease_worker_id IS NULL OR t.lease_expires_at IS NULL THEN NULL
          ELSE ${d.object([
            ['workerId', 't.lease_worker_id'],
            ['expiresAt', d.time('t.lease_expires_at')],
          ])} END`);
    }
  };
  return d.object(TASK_DOCUMENT_FIELDS.map((f) => [f.name, expr(f)] as const));
}
