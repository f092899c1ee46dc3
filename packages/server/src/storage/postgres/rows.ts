/**
 * Records ↔ PostgreSQL rows. jsonb columns arrive parsed (node-postgres) and leave as JSON text;
 * BIGINT columns arrive as numbers (the store's per-pool type parser); booleans are booleans.
 */
import { TasklaneError } from '../../domain/errors.js';
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

export { TASK_COLUMNS, TASK_SELECT };

export type { TaskRow } from '../task-columns.js';

// prettier-ignore
/**
 * The SQL type of each task column, for statements that receive rows as JSON (jsonRows) and cast
 * them back; `jsonb?` is a jsonb column that may be SQL NULL (error).
 */
export const TASK_COLUMN_TYPES: Readonly<Record<(typeof TASK_COLUMNS)[number], string>> = {
  org_id: 'text', id: 'text', project_id: 'text', identifier: 'text', list_id: 'text', type: 'text',
  title: 'text', description: 'text', input: 'jsonb', status: 'text', priority: 'integer',
  progress: 'double precision', progress_message: 'text', result: 'jsonb', error: 'jsonb?', attempt: 'integer',
  retry_count: 'integer', max_retries: 'integer', retry_policy: 'jsonb', lease_ms: 'bigint',
  timeout_ms: 'bigint', run_at: 'bigint', depends_on: 'jsonb', blocked_by: 'jsonb', blocked_reason: 'text',
  block_kind: 'text', on_dependency_failure: 'text', assignee: 'text', created_by: 'text',
  poll_count: 'integer', requires_review: 'boolean', metadata: 'jsonb', labels: 'jsonb',
  idempotency_key: 'text', ttl_seconds: 'bigint', version: 'integer', created_at: 'bigint',
  updated_at: 'bigint', queued_at: 'bigint', started_at: 'bigint', completed_at: 'bigint',
  blocked_at: 'bigint', archived_at: 'bigint', expires_at: 'bigint', timeout_at: 'bigint',
  lease_id: 'text', lease_worker_id: 'text', lease_expires_at: 'bigint', lease_length_ms: 'bigint',
  claimed_at: 'bigint',
};

/**
 * `FROM` items that look up each key of a text[] parameter on its own, in the array's order:
 * `unnest($n) AS k(id), LATERAL (SELECT … WHERE org_id = $1 AND <key> = k.id …) AS alias`.
 * A plain `key = ANY($n)` leaves the access path to the row estimates, and before the first
 * ANALYZE of a young table (no statistics yet) PostgreSQL takes `org_id = $1` for a handful of
 * rows and scans every row of the org for a batch of ids: 36 ms instead of 0.4 ms for 100 ids
 * among 36,000 tasks. A lateral lookup by the primary key has no such plan to pick.
 */
export function eachKey(param: string, lookup: string, alias: string): string {
  return `unnest(${param}::text[]) AS k(id), LATERAL (${lookup}) AS ${alias}`;
}

/** Distinct keys in a stable (code unit) order: the order rows are locked in. */
export const sortedKeys = (ids: Iterable<string>): string[] => [...new Set(ids)].sort();

/**
 * Many rows as one parameter: a JSON array of arrays, unpacked in SQL as columns c0, c1, … of the
 * given SQL types. node-postgres writes each element of an array parameter into an array literal
 * in JavaScript, escaping it character by character; JSON.stringify encodes the whole set
 * natively, and PostgreSQL parses it once. jsonb values are embedded as they are (JsonParam
 * `embedded`) and taken out as jsonb: as JSON text inside the JSON they would be escaped, then
 * parsed a second time each (in a profile of the PostgreSQL benchmark, jsonb_in was an eighth of
 * the database's CPU). A `jsonb?` column's SQL NULL travels as JSON null.
 */
export function jsonRows(param: string, types: readonly string[]): string {
  const columns = types.map((t, k) => `${rowElement(t, k)} AS c${k}`);
  return `(SELECT ${columns.join(', ')} FROM jsonb_array_elements(${param}::jsonb) AS e)`;
}

const rowElement = (type: string, k: number): string =>
  type === 'jsonb' ? `(e -> ${k})` : type === 'jsonb?' ? `nullif(e -> ${k}, 'null')` : `(e ->> ${k})::${type}`;

/**
 * A string as an SQL literal, for the statements sent with the COMMIT in one simple query, which
 * takes no parameters. Text without a quote or backslash (ids, names) is quoted as it is; the rest
 * becomes an escape string (E'…', backslashes and quotes doubled), which means the same whatever
 * standard_conforming_strings says. (pg's escapeLiteral walks the string character by character:
 * 60 to 100 ms for 1.2 MB of events, against about 1.5 ms for replaceAll.) NUL cannot travel in a
 * query's text at all (the server would take the message as malformed and the connection as
 * broken), and PostgreSQL stores no NUL in text either: it is refused here as it is for parameters.
 */
export const sqlLiteral = (s: string): string => {
  if (s.includes('\0'))
    throw new TasklaneError('VALIDATION_FAILED', 'Text may not contain the NUL character (\\u0000).');
  return /['\\]/.test(s) ? `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'` : `'${s}'`;
};

/** The task document (task-document.ts) in PostgreSQL's JSON functions. */
const PG_DOCUMENT: DocumentDialect = {
  // json_build_object keeps its keys in order (jsonb would sort them). 44 fields = 88 arguments,
  // under PostgreSQL's limit of 100.
  object: (pairs) => `json_build_object(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')})`,
  value: (c) => c,
  json: (c) => c,
  // Whole seconds by to_char, milliseconds by integer arithmetic: no float rounding anywhere.
  time: (c) =>
    `CASE WHEN ${c} IS NULL THEN NULL ELSE to_char(to_timestamp(${c} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad((${c} % 1000)::text, 3, '0') || 'Z' END`,
  bool: (c) => c,
  steps: (step) =>
    `coalesce((SELECT json_agg(${step} ORDER BY s.seq) FROM steps s WHERE s.org_id = t.org_id AND s.task_id = t.id), '[]'::json)`,
};

/** As text: node-postgres would otherwise parse the json value into objects. */
const TASK_DOCUMENT_SELECT = `SELECT t.id, t.status, t.version, (${documentExpression(PG_DOCUMENT)})::text AS json FROM tasks t`;
export const TASK_DOCUMENT_BY_ID_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = $1 AND t.id = $2`;
export const TASK_DOCUMENT_BY_IDENTIFIER_SQL = `${TASK_DOCUMENT_SELECT} WHERE t.org_id = $1 AND t.identifier = $2`;

/** The parameters of a task row in TASK_COLUMNS order; jsonb columns as JSON text. */
export function taskParams(t: Task): unknown[] {
  return rowValues(t);
}

/** A task row for jsonRows: jsonb columns embedded as they are. */
export function taskJsonRow(t: Task): unknown[] {
  return rowValues(t, undefined, 'embedded');
}

/** One column of a task for jsonRows, embedded like taskJsonRow's. */
export function taskJsonValue(column: TaskColumn, t: Task): unknown {
  return columnValue(column, t, undefined, 'embedded');
}

/** jsonb arrives parsed (null for SQL NULL), booleans as booleans. */
const PG_CODEC: RowCodec = { json: (v) => v, bool: (v) => v === true };

export const rowToTask = (row: readonly unknown[]): Task => taskFromRow(row, PG_CODEC);

/** Rows of the other tables → records (rows.ts): jsonb arrives parsed. */
export const fromRow = rowMappers(PG_CODEC);
export const fromWebhookRow = webhookRowMappers(PG_CODEC);

/**
 * `data` is selected as text: node-postgres parses a jsonb `null` and an SQL NULL alike, and a step
 * with `data: null` must come back with it (one without data, without).
 */
export const STEP_SELECT = 'task_id, time, message, data::text AS data';
