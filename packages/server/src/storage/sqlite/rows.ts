/** Records ↔ SQLite rows. JSON columns are text; booleans are 0/1. */
import type { Json, Step, Task } from '../../domain/task.js';
import type { ApiKey, IdempotencyRecord, Project, Scope, StoredEvent, TaskChange, TypeConfig } from '../task-store.js';
import { TASK_COLUMNS, columnValue, rowValues, taskFromRow, type RowCodec, type TaskColumn } from '../task-columns.js';

export type { TaskRow } from '../task-columns.js';
import { documentExpression, type DocumentDialect } from '../task-document.js';

export { TASK_COLUMNS };

/** SQLite has no booleans: 1 and 0. */
const bool01 = (b: boolean): number => (b ? 1 : 0);

/** A task's values in TASK_COLUMNS order, as the positional parameters of a statement. */
export const taskValues = (t: Task): unknown[] => rowValues(t, bool01);

/** One column's value for SQLite. */
export const sqliteValue = (column: TaskColumn, t: Task): unknown => columnValue(column, t, bool01);

const SQLITE_CODEC: RowCodec = {
  json: (v) => (v === null ? null : JSON.parse(v as string)),
  bool: (v) => v === 1,
};

export const rowToTask = (row: readonly unknown[]): Task => taskFromRow(row, SQLITE_CODEC);

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

// ---- the other records: JSON columns arrive as text -------------------------------------

export interface KeyRow {
  org_id: string;
  id: string;
  name: string;
  scopes: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}
export const keyFromRow = (r: KeyRow): ApiKey => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  scopes: JSON.parse(r.scopes) as Scope[],
  hash: r.hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

export interface ProjectRow {
  org_id: string;
  id: string;
  key: string;
  name: string;
  next_number: number;
  created_at: number;
}
export const projectFromRow = (r: ProjectRow): Project => ({
  id: r.id,
  orgId: r.org_id,
  key: r.key,
  name: r.name,
  nextNumber: r.next_number,
  createdAt: r.created_at,
});

export interface StepRow {
  task_id: string;
  time: number;
  message: string;
  data: string | null;
}
export const stepFromRow = (r: StepRow): Step =>
  r.data === null
    ? { time: r.time, message: r.message }
    : { time: r.time, message: r.message, data: JSON.parse(r.data) as Json };

export interface EventRow {
  id: number;
  org_id: string;
  task_id: string;
  type: string;
  time: number;
  data: string;
}
export const eventFromRow = (r: EventRow): StoredEvent => ({
  id: r.id,
  orgId: r.org_id,
  taskId: r.task_id,
  type: r.type as StoredEvent['type'],
  time: r.time,
  data: JSON.parse(r.data) as Json,
});

export interface IdempotencyRow {
  org_id: string;
  key: string;
  request_hash: string;
  task_ids: string;
  created_at: number;
}
export const idempotencyFromRow = (r: IdempotencyRow): IdempotencyRecord => ({
  orgId: r.org_id,
  key: r.key,
  requestHash: r.request_hash,
  taskIds: JSON.parse(r.task_ids) as string[],
  createdAt: r.created_at,
});

export interface TypeRow {
  org_id: string;
  type: string;
  config: string;
  updated_at: number;
}
export const typeFromRow = (r: TypeRow): TypeConfig => {
  const c = JSON.parse(r.config) as Pick<TypeConfig, 'concurrency' | 'rateLimit' | 'defaults'>;
  return {
    orgId: r.org_id,
    type: r.type,
    concurrency: c.concurrency,
    rateLimit: c.rateLimit,
    defaults: c.defaults,
    updatedAt: r.updated_at,
  };
};

export const changeOf = (t: Task): TaskChange => ({
  orgId: t.orgId,
  taskId: t.id,
  type: t.type,
  version: t.version,
  status: t.status,
  runAt: t.runAt,
});
