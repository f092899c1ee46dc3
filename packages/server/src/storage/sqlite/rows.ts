/** Records ↔ SQLite rows. JSON columns are text; booleans are 0/1. */
import type { Task } from '../../domain/task.js';
import { rowMappers } from '../rows.js';
import { webhookRowMappers } from '../webhook-rows.js';
import {
  TASK_COLUMNS,
  TASK_SELECT,
  columnValue,
  rowValues,
  taskFromRow,
  type RowCodec,
  type TaskColumn,
} from '../task-columns.js';
import { documentExpression, type DocumentDialect } from '../task-document.js';

export type { TaskRow } from '../task-columns.js';

export { TASK_COLUMNS, TASK_SELECT };

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

const TASK_DOCUMENT_SELECT = `SELECT t.id, t.status, t.version, ${documentExpression(SQLITE_DOCUMENT)} AS json FROM tasks t`;
/** Whole texts, built once: the statement cache looks them up by text on every call. */
export const TASK_DOCUMENT_BY_ID_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.id = ?`;
export const TASK_DOCUMENT_BY_IDENTIFIER_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = ? AND t.identifier = ?`;

/** Rows of the other tables → records (rows.ts): JSON columns arrive as text. */
export const fromRow = rowMappers(SQLITE_CODEC);
export const fromWebhookRow = webhookRowMappers(SQLITE_CODEC);
