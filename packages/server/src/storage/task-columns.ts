/**
 * The columns of a task row, shared by the adapters, and the record field each one holds.
 *
 * An update writes only the columns whose field changed (`changedColumns`), so the database
 * rewrites only the indexes over those and a large unchanged JSON value (input, metadata) is not
 * serialized or written again. Fields are compared by identity: a transition copies the fields it
 * does not change (`{ ...task, status }`), so a JSON field holding a new object counts as changed
 * even when its content is equal, which costs a write and is never wrong.
 */
import type { TaskStatus } from '../domain/status.js';
import type { BlockKind, DependencyFailurePolicy, Json, RetryPolicy, Task, TaskErrorInfo } from '../domain/task.js';

// prettier-ignore
export const TASK_COLUMNS = [
  'org_id', 'id', 'project_id', 'identifier', 'list_id', 'type', 'title', 'description', 'input',
  'status', 'priority', 'progress', 'progress_message', 'result', 'error', 'attempt', 'retry_count',
  'max_retries', 'retry_policy', 'lease_ms', 'timeout_ms', 'run_at', 'depends_on', 'blocked_by',
  'blocked_reason', 'block_kind', 'on_dependency_failure', 'assignee', 'created_by', 'poll_count',
  'requires_review', 'metadata', 'labels', 'idempotency_key', 'ttl_seconds', 'version', 'created_at',
  'updated_at', 'queued_at', 'started_at', 'completed_at', 'blocked_at', 'archived_at', 'expires_at',
  'timeout_at', 'lease_id', 'lease_worker_id', 'lease_expires_at', 'lease_length_ms', 'claimed_at',
] as const;

export type TaskColumn = (typeof TASK_COLUMNS)[number];

/** The select list of a task row, column by column in TASK_COLUMNS order (see TaskRow). */
export const TASK_SELECT = TASK_COLUMNS.join(', ');

/**
 * Claim order (SPEC §5), the one place it is decided: `claimable` of both adapters sorts by it in
 * SQL, and so does the tasks_claimable index of both 001_init.sql, which it walks per type.
 */
export const CLAIM_ORDER = 'priority DESC, coalesce(run_at, queued_at), id';

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
  claimed_at: (t) => t.claimedAt,
};

/**
 * How each column's parameter is made from its field: the field itself, JSON text (a null error
 * as SQL NULL), or a boolean (an adapter whose database has none converts it). In TASK_COLUMNS
 * order, so the hot loops below walk arrays by index instead of looking a column's accessor up by
 * name: these run for every task a claim or a report writes.
 */
type Encoding = 'plain' | 'json' | 'bool';
interface Column {
  name: TaskColumn;
  field: (t: Task) => unknown;
  encoding: Encoding;
}
const COLUMNS: readonly Column[] = TASK_COLUMNS.map((name) => ({
  name,
  field: FIELD_OF[name],
  encoding: JSON_COLUMNS.has(name) ? 'json' : name === 'requires_review' ? 'bool' : 'plain',
}));
const INDEX_OF = new Map<TaskColumn, number>(TASK_COLUMNS.map((c, i) => [c, i]));
/** Every column but org_id and id, the key. */
const UPDATABLE = COLUMNS.filter((c) => c.name !== 'org_id' && c.name !== 'id');

/** How a driver takes a boolean parameter (PostgreSQL: as it is; SQLite: 1 or 0). */
export type BoolParam = (b: boolean) => unknown;
const asIs: BoolParam = (b) => b;

/**
 * How a JSON column's value travels: as JSON text of its own (a parameter of its own; a missing
 * error as SQL NULL), or `embedded`, as it is, inside a parameter that is JSON as a whole (rows
 * sent as one JSON array, PostgreSQL's jsonRows), where text would be encoded twice, escaped, and
 * parsed twice by the database. Embedded, a missing error is JSON null.
 */
export type JsonParam = 'text' | 'embedded';

function encode(c: Column, t: Task, bool: BoolParam, json: JsonParam): unknown {
  const v = c.field(t);
  if (c.encoding === 'plain') return v;
  if (c.encoding === 'bool') return bool(v as boolean);
  if (json === 'embedded') return v ?? null;
  return v === null && c.name === 'error' ? null : JSON.stringify(v);
}

/** The value a column stores, as a statement parameter (see Column). */
export function columnValue(column: TaskColumn, t: Task, bool: BoolParam = asIs, json: JsonParam = 'text'): unknown {
  return encode(COLUMNS[INDEX_OF.get(column) as number] as Column, t, bool, json);
}

/** Every column's value, in TASK_COLUMNS order: the parameters of an insert. */
export function rowValues(t: Task, bool: BoolParam = asIs, json: JsonParam = 'text'): unknown[] {
  const out = new Array<unknown>(COLUMNS.length);
  for (let i = 0; i < COLUMNS.length; i++) out[i] = encode(COLUMNS[i] as Column, t, bool, json);
  return out;
}

/**
 * A set of updatable columns, made once per distinct set and shared: the tasks of one claim, or
 * of one batch of completions, all change the same columns, and an adapter keeps what it derives
 * from a set (an UPDATE text, a group of rows) under `mask`, a number, instead of under a string
 * built from the names for every task.
 */
export interface ColumnSet {
  /** Bit i stands for UPDATABLE[i]: 48 columns, within a double's 53 exact bits. */
  readonly mask: number;
  readonly columns: readonly TaskColumn[];
}
const columnSets = new Map<number, ColumnSet>();

/** The columns (never org_id or id) whose field differs between two records of one task. */
export function changedColumns(before: Task, after: Task): ColumnSet {
  let mask = 0;
  let bit = 1;
  for (const c of UPDATABLE) {
    if (c.field(before) !== c.field(after)) mask += bit;
    bit *= 2;
  }
  let set = columnSets.get(mask);
  if (set === undefined) {
    set = { mask, columns: UPDATABLE.filter((_, i) => Math.floor(mask / 2 ** i) % 2 === 1).map((c) => c.name) };
    columnSets.set(mask, set);
  }
  return set;
}

/** Every updatable column. */
export const ALL_UPDATABLE: ColumnSet = { mask: 2 ** UPDATABLE.length - 1, columns: UPDATABLE.map((c) => c.name) };

/**
 * A task row as the adapters read it: the values of TASK_COLUMNS, in order. Statements that read
 * tasks ask their driver for arrays (better-sqlite3's raw mode, node-postgres' rowMode 'array'):
 * building an array of 49 values costs less than half of building an object with 49 keys, and a
 * task is read on every claim and every report. JSON and boolean columns are as the driver gives
 * them; a RowCodec turns them into values.
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
  input: unknown,
  status: string,
  priority: number,
  progress: number | null,
  progress_message: string | null,
  result: unknown,
  error: unknown,
  attempt: number,
  retry_count: number,
  max_retries: number,
  retry_policy: unknown,
  lease_ms: number | null,
  timeout_ms: number | null,
  run_at: number | null,
  depends_on: unknown,
  blocked_by: unknown,
  blocked_reason: string | null,
  block_kind: string | null,
  on_dependency_failure: string,
  assignee: string | null,
  created_by: string | null,
  poll_count: number,
  requires_review: unknown,
  metadata: unknown,
  labels: unknown,
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
  claimed_at: number | null,
];

/** How one driver gives JSON and boolean columns. */
export interface RowCodec {
  /** A JSON column's value; SQL NULL (a missing error) is null. */
  json(value: unknown): unknown;
  bool(value: unknown): boolean;
}

export function taskFromRow(row: readonly unknown[], codec: RowCodec): Task {
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
    claimed_at,
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
    input: codec.json(input) as Json,
    status: status as TaskStatus,
    priority: priority,
    progress: progress,
    progressMessage: progress_message,
    result: codec.json(result) as Json,
    error: codec.json(error) as TaskErrorInfo | null,
    attempt: attempt,
    retryCount: retry_count,
    maxRetries: max_retries,
    retryPolicy: codec.json(retry_policy) as RetryPolicy,
    leaseMs: lease_ms,
    timeoutMs: timeout_ms,
    runAt: run_at,
    dependsOn: codec.json(depends_on) as string[],
    blockedBy: codec.json(blocked_by) as string[],
    blockedReason: blocked_reason,
    blockKind: block_kind as BlockKind | null,
    onDependencyFailure: on_dependency_failure as DependencyFailurePolicy,
    assignee: assignee,
    createdBy: created_by,
    pollCount: poll_count,
    requiresReview: codec.bool(requires_review),
    metadata: codec.json(metadata) as Task['metadata'],
    labels: codec.json(labels) as string[],
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
    claimedAt: claimed_at,
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
