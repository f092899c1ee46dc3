/**
 * One write unit of the SQLite adapter: the reads of sqlite-reader.ts plus every write of the
 * TaskStore contract, on the writer connection. The store (sqlite-store.ts) decides when units
 * begin and end; the whole unit holds SQLite's write lock (BEGIN IMMEDIATE).
 */
import { TasklaneError } from '../../domain/errors.js';
import type { Step, Task } from '../../domain/task.js';
import type { ApiKey } from '../../domain/api-key.js';
import type { Org } from '../../domain/org.js';
import type { Project } from '../../domain/project.js';
import type { IdempotencyRecord, NewEvent, NewOrg, StoreWriter, TaskChange, TypeConfig } from '../task-store.js';
import { UnitWrites, type RecordCache } from '../record-cache.js';
import { ALL_UPDATABLE, CLAIM_ORDER, changedColumns, type ColumnSet } from '../task-columns.js';
import {
  DELETED_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  KEY_COLUMNS,
  ORG_COLUMNS,
  PROJECT_COLUMNS,
  TYPE_COLUMNS,
  changeOf,
  deletedChange,
  idempotencyValues,
  keyValues,
  orgValues,
  projectValues,
  stepData,
  typeConfigValues,
  type DeletedRow,
} from '../rows.js';
import { TASK_COLUMNS, TASK_SELECT, rowToTask, sqliteValue, taskValues, type TaskRow } from './rows.js';
import { SqliteReader, prepared, type Db } from './sqlite-reader.js';
import { insertTaskCallbacks } from './sqlite-webhooks.js';
import type { TaskCallback } from '../webhook-store.js';

/** An event's columns but its id, which SQLite numbers. */
const EVENT_INSERT_COLUMNS = [
  'org_id',
  'task_id',
  'type',
  'task_type',
  'list_id',
  'project_id',
  'time',
  'data',
] as const;

/** One unit of work on one connection. Statements are cached per connection (prepared). */
export class SqliteUnit extends SqliteReader implements StoreWriter {
  constructor(
    db: Db,
    now: number,
    private readonly changes: TaskChange[],
    /** The store's cache of in-progress records, and what this unit wrote for it. */
    private readonly cache: RecordCache | null = null,
    private readonly writes: UnitWrites = new UnitWrites(),
    /** The events this unit wrote, in order, for the store's onCommit listeners. */
    private readonly events: NewEvent[] = [],
  ) {
    super(db, now);
  }

  private depth = 0;

  async nested<T>(fn: () => Promise<T>): Promise<T> {
    const name = `n${++this.depth}`;
    const announced = this.changes.length;
    const appended = this.events.length;
    const written = this.writes.mark();
    this.stmt(`SAVEPOINT ${name}`).run();
    try {
      const result = await fn();
      this.stmt(`RELEASE ${name}`).run();
      return result;
    } catch (err) {
      this.stmt(`ROLLBACK TO ${name}`).run();
      this.stmt(`RELEASE ${name}`).run();
      this.changes.length = announced;
      this.events.length = appended;
      this.writes.undo(written);
      throw err;
    } finally {
      this.depth--;
    }
  }

  // ---- orgs and keys ---------------------------------------------------------------------

  async insertOrg(org: NewOrg): Promise<void> {
    this.stmt(`INSERT INTO orgs (${ORG_COLUMNS}) VALUES (?, ?, ?, ?, ?)`).run(...orgValues(org));
  }

  /** The whole unit holds SQLite's write lock (BEGIN IMMEDIATE), across processes too: units of one org are serial. */
  lockOrg(orgId: string): Promise<Org | null> {
    return this.getOrg(orgId);
  }

  async updateOrg(org: Org): Promise<boolean> {
    const { maxRetries, ttlSeconds } = org.defaults;
    const sql = 'UPDATE orgs SET name = ?, default_max_retries = ?, default_ttl_seconds = ? WHERE id = ?';
    return this.stmt(sql).run(org.name, maxRetries, ttlSeconds, org.id).changes === 1;
  }

  async insertKey(key: ApiKey): Promise<void> {
    this.stmt(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(...keyValues(key));
  }

  async revokeKey(orgId: string, keyId: string, at: number): Promise<boolean> {
    const r = this.stmt('UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL').run(
      at,
      orgId,
      keyId,
    );
    return r.changes === 1;
  }

  // ---- tasks, steps, events --------------------------------------------------------------

  async getTaskForUpdate(orgId: string, taskId: string): Promise<Task | null> {
    // The whole unit holds SQLite's write lock (BEGIN IMMEDIATE): nothing else can change the row.
    return (await this.getTasksForUpdate(orgId, [taskId]))[0] ?? null;
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    insertRows(
      this.db,
      'tasks',
      TASK_COLUMNS,
      tasks.map((t) => taskValues(t)),
    );
    const dep = this.stmt('INSERT OR IGNORE INTO task_deps (org_id, depends_on_id, task_id) VALUES (?, ?, ?)');
    for (const t of tasks) {
      for (const d of t.dependsOn) dep.run(t.orgId, d, t.id);
      this.changes.push(changeOf(t));
    }
  }

  async updateTask(task: Task, previous?: Task): Promise<boolean> {
    return this.writeTask(task, previous, task.version - 1);
  }

  async getTasksForUpdate(orgId: string, taskIds: readonly string[]): Promise<Task[]> {
    // The whole unit holds SQLite's write lock (BEGIN IMMEDIATE): nothing else can change the rows.
    // Records the cache holds are confirmed by their version (two values a row instead of 49);
    // only the others are read in full.
    if (this.cache === null || !this.cache.holdsAny(orgId, taskIds)) return this.getTasks(orgId, taskIds);
    const versions = prepared(
      this.db,
      'SELECT id, version FROM tasks WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))',
      true,
    ).all(orgId, JSON.stringify(taskIds)) as Array<[string, number]>;
    const { hits, misses } = this.cache.confirm(orgId, new Set(taskIds), new Map(versions));
    return misses.length === 0 ? hits : [...hits, ...(await this.getTasks(orgId, misses))];
  }

  async updateTasks(changes: ReadonlyArray<{ task: Task; previous: Task }>): Promise<number> {
    let written = 0;
    for (const { task, previous } of changes) if (this.writeTask(task, previous, previous.version)) written++;
    return written;
  }

  private writeTask(task: Task, previous: Task | undefined, expectedVersion: number): boolean {
    // Only the columns that changed: SQLite then maintains only the indexes over them.
    const set = previous === undefined ? ALL_UPDATABLE : changedColumns(previous, task);
    const params = set.columns.map((c) => sqliteValue(c, task));
    params.push(task.orgId, task.id, expectedVersion);
    // Spread, not an array: better-sqlite3 reads an array parameter element by element through
    // V8's API, about a fifth slower than taking the values as arguments.
    const r = this.stmt(updateText(set)).run(...params);
    if (r.changes !== 1) return false;
    this.changes.push(changeOf(task));
    this.writes.written.push(task);
    return true;
  }

  async deleteTask(orgId: string, taskId: string): Promise<boolean> {
    const gone = this.stmt(`DELETE FROM tasks WHERE org_id = ? AND id = ? RETURNING ${DELETED_COLUMNS}`).get(
      orgId,
      taskId,
    ) as DeletedRow | undefined;
    if (gone === undefined) return false;
    this.stmt('DELETE FROM steps WHERE org_id = ? AND task_id = ?').run(orgId, taskId);
    this.stmt('DELETE FROM task_deps WHERE org_id = ? AND task_id = ?').run(orgId, taskId);
    this.writes.deleted.push({ orgId, taskId });
    this.changes.push(deletedChange(gone));
    return true;
  }

  async appendSteps(orgId: string, taskId: string, steps: readonly Step[]): Promise<void> {
    if (steps.length === 0) return;
    const { n } = this.stmt('SELECT coalesce(max(seq), 0) AS n FROM steps WHERE org_id = ? AND task_id = ?').get(
      orgId,
      taskId,
    ) as { n: number };
    const insert = this.stmt('INSERT INTO steps (org_id, task_id, seq, time, message, data) VALUES (?, ?, ?, ?, ?, ?)');
    steps.forEach((s, i) => insert.run(orgId, taskId, n + i + 1, s.time, s.message, stepData(s)));
  }

  async appendEvents(events: readonly NewEvent[]): Promise<void> {
    const rows: unknown[][] = [];
    for (const e of events) {
      rows.push([e.orgId, e.taskId, e.type, e.taskType, e.listId, e.projectId, this.now, JSON.stringify(e.data)]);
      this.events.push(e);
    }
    insertRows(this.db, 'events', EVENT_INSERT_COLUMNS, rows);
  }

  async putTaskCallbacks(callbacks: readonly TaskCallback[]): Promise<void> {
    insertTaskCallbacks(this.db, callbacks);
  }

  // ---- projects and idempotency ----------------------------------------------------------

  async insertProject(p: Project): Promise<void> {
    this.stmt(`INSERT INTO projects (${PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(...projectValues(p));
  }

  async takeProjectNumbers(orgId: string, projectId: string, count: number): Promise<number> {
    const r = this.stmt(
      'UPDATE projects SET next_number = next_number + ? WHERE org_id = ? AND id = ? RETURNING next_number - ? AS first',
    ).get(count, orgId, projectId, count) as { first: number } | undefined;
    if (!r) throw new TasklaneError('NOT_FOUND', 'No such project.');
    return r.first;
  }

  async putIdempotency(rec: IdempotencyRecord): Promise<void> {
    // A record older than the retention window may still be there (the reaper has not run): replace it.
    this.stmt(`INSERT OR REPLACE INTO idempotency_keys (${IDEMPOTENCY_COLUMNS}) VALUES (?, ?, ?, ?, ?)`).run(
      ...idempotencyValues(rec),
    );
  }

  // ---- types, claims, the reaper ----------------------------------------------------------

  async putTypeConfig(c: TypeConfig): Promise<void> {
    this.stmt(`INSERT OR REPLACE INTO task_types (${TYPE_COLUMNS}) VALUES (?, ?, ?, ?)`).run(...typeConfigValues(c));
  }

  lockType(orgId: string, type: string): Promise<TypeConfig | null> {
    // The unit holds SQLite's write lock already: claims are serialized as a whole.
    return this.getTypeConfig(orgId, type);
  }

  async countInProgress(orgId: string, type: string): Promise<number> {
    return (
      this.stmt("SELECT count(*) AS n FROM tasks WHERE org_id = ? AND type = ? AND status = 'in_progress'").get(
        orgId,
        type,
      ) as {
        n: number;
      }
    ).n;
  }

  async claimable(
    orgId: string,
    types: readonly string[],
    limit: number,
    typeLimits?: ReadonlyMap<string, number>,
  ): Promise<Task[]> {
    if (types.length === 0 || limit <= 0) return [];
    // One ordered, limited walk of tasks_claimable per type (`type = ?` keeps every plan on the
    // index whatever the table holds), merged in claim order by the same statement.
    const params: unknown[] = [];
    for (const type of types) params.push(orgId, type, this.now, Math.min(limit, typeLimits?.get(type) ?? limit));
    if (types.length > 1) params.push(limit);
    return (this.rows(claimableText(types.length)).all(...params) as TaskRow[]).map(rowToTask);
  }

  async recordClaims(orgId: string, claims: ReadonlyArray<{ type: string; count: number }>): Promise<void> {
    const insert = this.stmt('INSERT INTO claims (org_id, type, time, count) VALUES (?, ?, ?, ?)');
    for (const c of claims) insert.run(orgId, c.type, this.now, c.count);
  }

  async reap(
    limit: number,
    cutoffs: { eventsBefore: number; idempotencyBefore: number; claimsBefore: number },
  ): Promise<number> {
    const expired = this.stmt('SELECT org_id, id FROM tasks WHERE expires_at <= ? LIMIT ?').all(
      this.now,
      limit,
    ) as Array<{
      org_id: string;
      id: string;
    }>;
    for (const t of expired) await this.deleteTask(t.org_id, t.id);
    this.reapEvents(cutoffs.eventsBefore, limit * 10);
    this.stmt(
      'DELETE FROM idempotency_keys WHERE (org_id, key) IN (SELECT org_id, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
    ).run(cutoffs.idempotencyBefore, limit * 10);
    this.stmt('DELETE FROM claims WHERE rowid IN (SELECT rowid FROM claims WHERE time < ? LIMIT ?)').run(
      cutoffs.claimsBefore,
      limit * 10,
    );
    return expired.length;
  }

  /**
   * Delete at most `limit` events older than `before`, and raise each org's horizon to the highest
   * id deleted there (never lowering it). Events are appended in time order: the oldest ids are
   * the oldest rows (no time index needed).
   */
  private reapEvents(before: number, limit: number): void {
    const gone = this.stmt(
      'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? ORDER BY id LIMIT ?) RETURNING org_id, id',
    ).all(before, limit) as Array<{ org_id: string; id: number }>;
    const through = new Map<string, number>();
    for (const r of gone) if (r.id > (through.get(r.org_id) ?? 0)) through.set(r.org_id, r.id);
    const raise = this.stmt(
      `INSERT INTO event_horizons (org_id, reaped_through) VALUES (?, ?)
       ON CONFLICT (org_id) DO UPDATE SET reaped_through = max(reaped_through, excluded.reaped_through)`,
    );
    for (const [orgId, id] of through) raise.run(orgId, id);
  }
}

/** The claim of one type: its next tasks in claim order, at most `?` (the last parameter). */
const CLAIMABLE_OF_TYPE = `SELECT ${TASK_SELECT} FROM tasks
  WHERE org_id = ? AND type = ? AND status = 'queued' AND (run_at IS NULL OR run_at <= ?)
  ORDER BY ${CLAIM_ORDER} LIMIT ?`;
const claimableTexts = new Map<number, string>();
/**
 * The claim over `count` types: each type's claim as a subquery of its own (so each keeps its
 * ORDER BY and LIMIT, and its plan on the index), then all of them in claim order, at most the
 * last parameter. Built once per number of types. (SQLite takes up to 500 terms in a compound
 * SELECT; a claim names at most 50 types, ClaimBody in the SDK's schemas.)
 */
function claimableText(count: number): string {
  if (count === 1) return CLAIMABLE_OF_TYPE;
  let sql = claimableTexts.get(count);
  if (sql === undefined) {
    const each = Array.from({ length: count }, () => `SELECT * FROM (${CLAIMABLE_OF_TYPE})`).join(' UNION ALL ');
    sql = `SELECT ${TASK_SELECT} FROM (${each}) ORDER BY ${CLAIM_ORDER} LIMIT ?`;
    claimableTexts.set(count, sql);
  }
  return sql;
}

const updateTexts = new Map<number, string>();
/**
 * The UPDATE of these columns, fenced by version. The text is built once per set of columns and
 * kept, so the statement cache finds it by a string whose hash V8 already knows.
 */
function updateText({ mask, columns }: ColumnSet): string {
  let sql = updateTexts.get(mask);
  if (sql === undefined) {
    const set = columns.length > 0 ? columns.map((c) => `${c} = ?`).join(', ') : 'version = version';
    sql = `UPDATE tasks SET ${set} WHERE org_id = ? AND id = ? AND version = ?`;
    updateTexts.set(mask, sql);
  }
  return sql;
}

/** Rows per INSERT statement: a few statements for any number of rows, from three texts per table. */
const CHUNKS = [64, 8, 1] as const;
const insertTexts = new Map<string, string>();

/**
 * Insert rows (values in `columns` order) with multi-row INSERT statements. One statement of 64
 * rows costs about half of 64 single-row statements in better-sqlite3: a row's values cross into
 * SQLite in one call with the others, and the statement is stepped once.
 */
function insertRows(db: Db, table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): void {
  let at = 0;
  for (const size of CHUNKS) {
    if (rows.length - at < size) continue;
    const key = `${table}(${columns.join(',')})/${size}`;
    let sql = insertTexts.get(key);
    if (sql === undefined) {
      const row = `(${columns.map(() => '?').join(', ')})`;
      sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: size }, () => row).join(', ')}`;
      insertTexts.set(key, sql);
    }
    const insert = prepared(db, sql);
    // Spread, as in writeTask: at most 64 rows × 49 values, far below any argument limit. The
    // values are copied into one array by hand: Array.prototype.flat took 6 µs a task row here.
    for (; rows.length - at >= size; at += size) insert.run(...flatten(rows, at, size));
  }
}

/** `rows[at .. at + count)`, their values in one array. */
function flatten(rows: ReadonlyArray<readonly unknown[]>, at: number, count: number): unknown[] {
  const out: unknown[] = [];
  for (let r = at; r < at + count; r++) {
    const row = rows[r] as readonly unknown[];
    for (let c = 0; c < row.length; c++) out.push(row[c]);
  }
  return out;
}
