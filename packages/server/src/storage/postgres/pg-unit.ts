/**
 * One unit of work on one pooled connection, inside the transaction the store opened. Write units
 * run at READ COMMITTED: every statement sees what committed before it, and the contract's
 * serializability comes from row locks (getTaskForUpdate, claimable) and advisory locks (lockType),
 * plus two things this class adds where a plain read would let two units interleave:
 * - insertTasks share-locks the existing dependencies of what it inserts and checks they are still
 *   at the version this unit read: a dependency that finished meanwhile (its completer could not
 *   see the new, uncommitted dependent) makes the unit run again, now seeing the outcome.
 * - getIdempotency takes an advisory lock on the key, so two requests with one key do not both
 *   create.
 * Events are numbered per org at the end of the unit, with its COMMIT (pg-events.ts).
 */
import type { PoolClient } from 'pg';
import { TasklaneError } from '../../domain/errors.js';
import type { Step, Task } from '../../domain/task.js';
import type { ApiKey } from '../../domain/api-key.js';
import type { Org } from '../../domain/org.js';
import type { Project } from '../../domain/project.js';
import type { IdempotencyRecord, NewEvent, NewOrg, StoreWriter, TaskChange, TypeConfig } from '../task-store.js';
import { CLAIM_ORDER, changedColumns, columnValue, type TaskColumn } from '../task-columns.js';
import { UnitWrites, type RecordCache } from '../record-cache.js';
import { UnitConflict } from './pg-errors.js';
import { REAP_EVENTS_SQL, UnitEvents, deliveriesWritten } from './pg-events.js';
import { PgReader, statement } from './pg-reader.js';
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
import {
  TASK_COLUMNS,
  TASK_COLUMN_TYPES,
  TASK_SELECT,
  eachKey,
  jsonRows,
  sortedKeys,
  taskJsonRow,
  taskJsonValue,
  taskParams,
} from './rows.js';
import { taskCallbacksInsert } from './pg-webhooks.js';
import type { TaskCallback } from '../webhook-store.js';

/** First keys of the two-key advisory locks, one per kind, so kinds never collide. */
export const LOCK_CLASS = { migrate: 0x7a5c_0001, type: 0x7a5c_0002, idempotency: 0x7a5c_0003 } as const;

const INSERT_TASKS_SQL = `INSERT INTO tasks (${TASK_SELECT})
  SELECT * FROM ${jsonRows(
    '$1',
    TASK_COLUMNS.map((c) => TASK_COLUMN_TYPES[c]),
  )} AS v`;
const UPDATE_TASK_SQL = `UPDATE tasks SET ${TASK_COLUMNS.slice(2)
  .map((c, i) => `${c} = $${i + 3}`)
  .join(', ')} WHERE org_id = $1 AND id = $2 AND version = $${TASK_COLUMNS.indexOf('version') + 1}::int - 1`;

/** The claim of one type: a walk of tasks_claimable in claim order, at most $4. */
const CLAIMABLE_OF_TYPE_SQL = `SELECT ${TASK_SELECT} FROM tasks
  WHERE org_id = $1 AND type = $2 AND status = 'queued' AND (run_at IS NULL OR run_at <= $3)
  ORDER BY ${CLAIM_ORDER} LIMIT $4
  FOR UPDATE SKIP LOCKED`;
/**
 * The claim over several types ($2, each at most its $3): each type's walk of tasks_claimable as a
 * lateral subquery of its own, then all of them in claim order, at most $5.
 */
const CLAIMABLE_SQL = `SELECT c.* FROM unnest($2::text[], $3::int[]) AS q(type, cap),
  LATERAL (SELECT ${TASK_SELECT} FROM tasks
            WHERE org_id = $1 AND type = q.type AND status = 'queued' AND (run_at IS NULL OR run_at <= $4)
            ORDER BY ${CLAIM_ORDER} LIMIT q.cap
            FOR UPDATE SKIP LOCKED) AS c
  ORDER BY ${CLAIM_ORDER} LIMIT $5`;

const taskKey = (orgId: string, taskId: string) => `${orgId}/${taskId}`;

export class PgUnit extends PgReader implements StoreWriter {
  /** Tasks this unit inserted or updated, announced after commit. */
  readonly changes: TaskChange[] = [];
  /** Events appended, written with their ids at the end of the unit (pg-events.ts). */
  private readonly events: UnitEvents;
  /** Webhook deliveries the unit's events statements wrote (their own count, pg-events.ts). */
  deliveriesWritten = 0;
  /** The version of each task this unit read (or wrote), for insertTasks' dependency check. */
  private seen = new Map<string, number>();
  private depth = 0;

  /** What this unit wrote, for the store's cache of in-progress records if it commits. */
  readonly writes = new UnitWrites();

  constructor(
    client: PoolClient,
    now: number,
    /** Mixed into advisory lock keys: stores of other schemas in one database do not contend. */
    private readonly lockScope: string,
    private readonly cache: RecordCache | null = null,
    /** The NOTIFY payload announcing deliveries to other nodes (change-feed.ts encodeOutboxWake). */
    outboxWake = '',
  ) {
    super(client, now);
    this.events = new UnitEvents(outboxWake);
  }

  protected override onTasksRead(tasks: readonly Task[]): void {
    for (const t of tasks) this.seen.set(taskKey(t.orgId, t.id), t.version);
  }

  /**
   * The key is locked first, in a statement of its own: the read that follows must see what the
   * unit this one waited for committed.
   */
  protected override beforeIdempotencyRead(orgId: string, key: string): Promise<void> {
    return this.advisoryLock(LOCK_CLASS.idempotency, orgId, key);
  }

  /** This unit's own events are listed too. */
  protected override beforeEventsRead(): Promise<void> {
    return this.flushEvents();
  }

  async nested<T>(fn: () => Promise<T>): Promise<T> {
    const name = `n${++this.depth}`;
    // A copy of `seen`: the nested unit may change it, and a rollback must bring it back.
    const mark = {
      changes: this.changes.length,
      events: this.events.mark(),
      seen: new Map(this.seen),
      writes: this.writes.mark(),
    };
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      // If the connection is gone this fails too; the unit then fails with the original error.
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`).catch(() => undefined);
      this.changes.length = mark.changes;
      this.events.undo(mark.events);
      this.seen = mark.seen;
      this.writes.undo(mark.writes);
      throw err;
    } finally {
      this.depth--;
    }
  }

  // ---- orgs and keys ---------------------------------------------------------------------

  async insertOrg(org: NewOrg): Promise<void> {
    await this.client.query(`INSERT INTO orgs (${ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, orgValues(org));
  }

  /**
   * The org's row lock (FOR UPDATE), held to the end of the unit. At READ COMMITTED each later
   * statement takes a new snapshot, so once the lock is granted they see what the unit that held it
   * committed: a count of the org's keys made after it cannot miss a revocation that raced it.
   */
  lockOrg(orgId: string): Promise<Org | null> {
    return this.org(orgId, 'FOR UPDATE');
  }

  async updateOrg(org: Org): Promise<boolean> {
    const sql = 'UPDATE orgs SET name = $2, default_max_retries = $3, default_ttl_seconds = $4 WHERE id = $1';
    return (await this.count(sql, [org.id, org.name, org.defaults.maxRetries, org.defaults.ttlSeconds])) === 1;
  }

  async insertKey(k: ApiKey): Promise<void> {
    await this.client.query(
      `INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      keyValues(k),
    );
  }

  async revokeKey(orgId: string, keyId: string, at: number): Promise<boolean> {
    return (
      (await this.count('UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL', [
        orgId,
        keyId,
        at,
      ])) === 1
    );
  }

  // ---- tasks, steps, events --------------------------------------------------------------

  async getTaskForUpdate(orgId: string, taskId: string): Promise<Task | null> {
    if (this.cache?.holdsAny(orgId, [taskId])) return (await this.getTasksForUpdate(orgId, [taskId]))[0] ?? null;
    return this.task(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND id = $2 FOR UPDATE`, [orgId, taskId]);
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.lockDependencies(tasks);
    // All rows as one JSON parameter: one statement text (prepared once) for any number of tasks.
    await this.count(INSERT_TASKS_SQL, [JSON.stringify(tasks.map(taskJsonRow))]);
    const edges = tasks.flatMap((t) => t.dependsOn.map((d) => [t.orgId, d, t.id] as const));
    if (edges.length > 0) {
      await this.count(
        `INSERT INTO task_deps (org_id, depends_on_id, task_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
        [edges.map((e) => e[0]), edges.map((e) => e[1]), edges.map((e) => e[2])],
      );
    }
    for (const t of tasks) {
      this.seen.set(taskKey(t.orgId, t.id), t.version);
      this.changes.push(changeOf(t));
    }
  }

  /**
   * Share-lock the dependencies (already stored) of the tasks about to be inserted, and make sure
   * the ones this unit read are unchanged: the new tasks' status was decided from them.
   */
  private async lockDependencies(tasks: readonly Task[]): Promise<void> {
    const inserting = new Set(tasks.map((t) => taskKey(t.orgId, t.id)));
    const byOrg = new Map<string, Set<string>>();
    for (const t of tasks) {
      for (const d of t.dependsOn) {
        if (inserting.has(taskKey(t.orgId, d))) continue;
        const set = byOrg.get(t.orgId) ?? new Set<string>();
        set.add(d);
        byOrg.set(t.orgId, set);
      }
    }
    for (const [orgId, ids] of byOrg) {
      const current = await this.rows<{ id: string; version: number }>(
        `SELECT t.* FROM ${eachKey('$2', 'SELECT id, version FROM tasks WHERE org_id = $1 AND id = k.id FOR SHARE', 't')}`,
        [orgId, sortedKeys(ids)],
      );
      const now = new Map(current.map((r) => [r.id, r.version]));
      for (const id of ids) {
        const read = this.seen.get(taskKey(orgId, id));
        if (read !== undefined && now.get(id) !== read) {
          throw new UnitConflict(`dependency ${id} changed while the unit ran`);
        }
      }
    }
  }

  /**
   * With `previous`, only the columns that differ are written: an unchanged large jsonb value
   * (input, result, metadata) then keeps its stored (TOAST) copy instead of being written again on
   * every heartbeat.
   */
  async updateTask(task: Task, previous?: Task): Promise<boolean> {
    let sql = UPDATE_TASK_SQL;
    let params = taskParams(task);
    if (previous !== undefined) {
      const changed = changedColumns(previous, task).columns;
      params = [task.orgId, task.id, task.version, ...changed.map((c) => columnValue(c, task))];
      const set = changed.map((c, n) => `${c} = $${n + 4}`);
      sql = `UPDATE tasks SET ${set.length > 0 ? set.join(', ') : 'version = $3'} WHERE org_id = $1 AND id = $2 AND version = $3::int - 1`;
    }
    if ((await this.count(sql, params)) !== 1) return false;
    this.seen.set(taskKey(task.orgId, task.id), task.version);
    this.changes.push(changeOf(task));
    this.writes.written.push(task);
    return true;
  }

  async getTasksForUpdate(orgId: string, taskIds: readonly string[]): Promise<Task[]> {
    if (taskIds.length === 0) return [];
    // One lookup per id, in sorted order, so the rows are locked in id order: two units locking
    // overlapping sets wait for each other instead of deadlocking.
    const keys = sortedKeys(taskIds);
    const full = (ids: string[]) =>
      this.tasks(
        `SELECT t.* FROM ${eachKey('$2', `SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND id = k.id FOR UPDATE`, 't')}`,
        [orgId, ids],
      );
    if (this.cache === null || !this.cache.holdsAny(orgId, keys)) return full(keys);
    // Lock every row, but read only the versions; records the cache holds at those versions are
    // the rows, and only the others travel in full (record-cache.ts).
    const versions = await this.rows<{ id: string; version: number }>(
      `SELECT t.* FROM ${eachKey('$2', 'SELECT id, version FROM tasks WHERE org_id = $1 AND id = k.id FOR UPDATE', 't')}`,
      [orgId, keys],
    );
    const { hits, misses } = this.cache.confirm(orgId, keys, new Map(versions.map((r) => [r.id, r.version])));
    this.onTasksRead(hits);
    return misses.length === 0 ? hits : [...hits, ...(await full(misses))];
  }

  /**
   * One UPDATE … FROM (the rows as JSON) per set of changed columns (the tasks of one claim, or of one batch
   * of completions, all change the same ones), instead of a statement per task.
   */
  async updateTasks(changes: ReadonlyArray<{ task: Task; previous: Task }>): Promise<number> {
    const groups = new Map<number, { columns: readonly TaskColumn[]; rows: unknown[][]; tasks: Task[] }>();
    for (const { task, previous } of changes) {
      const { mask, columns } = changedColumns(previous, task);
      let group = groups.get(mask);
      if (group === undefined) groups.set(mask, (group = { columns, rows: [], tasks: [] }));
      group.rows.push([task.orgId, task.id, previous.version, ...columns.map((c) => taskJsonValue(c, task))]);
      group.tasks.push(task);
    }
    let written = 0;
    for (const { columns: names, rows, tasks } of groups.values()) {
      const types = ['text', 'text', 'integer', ...names.map((n) => TASK_COLUMN_TYPES[n])];
      const set = names.map((n, k) => `${n} = v.c${k + 3}`);
      const n = await this.count(
        `UPDATE tasks AS t SET ${set.length > 0 ? set.join(', ') : 'version = t.version'}
           FROM ${jsonRows('$1', types)} AS v
          WHERE t.org_id = v.c0 AND t.id = v.c1 AND t.version = v.c2`,
        [JSON.stringify(rows)],
      );
      // Every row written is the usual case (the rows are locked by this unit); only when some were
      // not does the unit ask which, by the versions they are at now.
      for (const task of n === tasks.length ? tasks : await this.atVersion(tasks)) {
        this.seen.set(taskKey(task.orgId, task.id), task.version);
        this.changes.push(changeOf(task));
        this.writes.written.push(task);
      }
      written += n;
    }
    return written;
  }

  /** Those of `tasks` whose stored row is at their version. */
  private async atVersion(tasks: readonly Task[]): Promise<Task[]> {
    const out: Task[] = [];
    for (const orgId of new Set(tasks.map((t) => t.orgId))) {
      const mine = tasks.filter((t) => t.orgId === orgId);
      const rows = await this.rows<{ id: string; version: number }>(
        `SELECT t.* FROM ${eachKey('$2', 'SELECT id, version FROM tasks WHERE org_id = $1 AND id = k.id', 't')}`,
        [orgId, sortedKeys(mine.map((t) => t.id))],
      );
      const now = new Map(rows.map((r) => [r.id, r.version]));
      out.push(...mine.filter((t) => now.get(t.id) === t.version));
    }
    return out;
  }

  async deleteTask(orgId: string, taskId: string): Promise<boolean> {
    const [gone] = await this.rows<DeletedRow>(
      `WITH s AS (DELETE FROM steps WHERE org_id = $1 AND task_id = $2),
            d AS (DELETE FROM task_deps WHERE org_id = $1 AND task_id = $2)
       DELETE FROM tasks WHERE org_id = $1 AND id = $2 RETURNING ${DELETED_COLUMNS}`,
      [orgId, taskId],
    );
    if (gone === undefined) return false;
    this.announceDeleted(gone);
    return true;
  }

  /** A deleted task is announced like a change, so that requests waiting on it wake and find it gone. */
  private announceDeleted(r: DeletedRow): void {
    this.seen.delete(taskKey(r.org_id, r.id));
    this.writes.deleted.push({ orgId: r.org_id, taskId: r.id });
    this.changes.push(deletedChange(r));
  }

  async appendSteps(orgId: string, taskId: string, steps: readonly Step[]): Promise<void> {
    if (steps.length === 0) return;
    await this.count(
      `INSERT INTO steps (org_id, task_id, seq, time, message, data)
       SELECT $1, $2, base.n + s.ord, s.time, s.message, s.data::jsonb
         FROM (SELECT coalesce(max(seq), 0) AS n FROM steps WHERE org_id = $1 AND task_id = $2) base,
              unnest($3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS s(time, message, data, ord)`,
      [orgId, taskId, steps.map((s) => s.time), steps.map((s) => s.message), steps.map(stepData)],
    );
  }

  async appendEvents(events: readonly NewEvent[]): Promise<void> {
    this.events.append(events);
  }

  async putTaskCallbacks(callbacks: readonly TaskCallback[]): Promise<void> {
    if (callbacks.length === 0) return;
    const q = taskCallbacksInsert(callbacks);
    await this.client.query(q.text, q.values);
  }

  /**
   * Write the appended events now. The counter rows stay locked until commit, so this runs only
   * where the unit must read its own events (listEvents); at the end of a unit they go with the
   * COMMIT (takeEventStatements).
   */
  async flushEvents(): Promise<void> {
    for (const query of this.events.takeQueries(this.now)) {
      this.deliveriesWritten += deliveriesWritten([await this.client.query(statement(query.text, query.values))]);
    }
  }

  /** The appended events as statements for the store to send with the COMMIT (pg-events.ts). */
  takeEventStatements(): string {
    return this.events.takeStatements(this.now);
  }

  /** Every event this unit appended (but those of nested units undone), for onCommit. */
  get appendedEvents(): readonly NewEvent[] {
    return this.events.all;
  }

  // ---- projects and idempotency ----------------------------------------------------------

  async insertProject(p: Project): Promise<void> {
    await this.client.query(
      `INSERT INTO projects (${PROJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      projectValues(p),
    );
  }

  async takeProjectNumbers(orgId: string, projectId: string, count: number): Promise<number> {
    const [r] = await this.rows<{ first: number }>(
      `UPDATE projects SET next_number = next_number + $3::bigint WHERE org_id = $1 AND id = $2
       RETURNING next_number - $3::bigint AS first`,
      [orgId, projectId, count],
    );
    if (!r) throw new TasklaneError('NOT_FOUND', 'No such project.');
    return r.first;
  }

  async putIdempotency(rec: IdempotencyRecord): Promise<void> {
    // A record older than the retention window may still be there (the reaper has not run): replace it.
    await this.client.query(
      `INSERT INTO idempotency_keys (${IDEMPOTENCY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (org_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, task_ids = EXCLUDED.task_ids, created_at = EXCLUDED.created_at`,
      idempotencyValues(rec),
    );
  }

  private async advisoryLock(kind: number, orgId: string, name: string): Promise<void> {
    const key = `${this.lockScope}:${orgId.length}:${orgId}:${name}`;
    await this.count('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [kind, key]);
  }

  // ---- types, claims, the reaper ----------------------------------------------------------

  async putTypeConfig(c: TypeConfig): Promise<void> {
    await this.client.query(
      `INSERT INTO task_types (${TYPE_COLUMNS}) VALUES ($1, $2, $3, $4)
       ON CONFLICT (org_id, type) DO UPDATE SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at`,
      typeConfigValues(c),
    );
  }

  async lockType(orgId: string, type: string): Promise<TypeConfig | null> {
    // An advisory lock serializes the claims of one (org, type) across nodes, whether or not the
    // type has a settings row; the row is read after it, in a statement of its own.
    await this.advisoryLock(LOCK_CLASS.type, orgId, type);
    return this.getTypeConfig(orgId, type);
  }

  async countInProgress(orgId: string, type: string): Promise<number> {
    const [r] = await this.rows<{ n: number }>(
      "SELECT count(*) AS n FROM tasks WHERE org_id = $1 AND type = $2 AND status = 'in_progress'",
      [orgId, type],
    );
    return r?.n ?? 0;
  }

  async claimable(
    orgId: string,
    types: readonly string[],
    limit: number,
    typeLimits?: ReadonlyMap<string, number>,
  ): Promise<Task[]> {
    if (types.length === 0 || limit <= 0) return [];
    // Rows other units hold (a claim on another node, a worker's report) are skipped, not waited for.
    const caps = types.map((type) => Math.min(limit, typeLimits?.get(type) ?? limit));
    if (types.length === 1) return this.tasks(CLAIMABLE_OF_TYPE_SQL, [orgId, types[0], this.now, caps[0]]);
    return this.tasks(CLAIMABLE_SQL, [orgId, types, caps, this.now, limit]);
  }

  async recordClaims(orgId: string, claims: ReadonlyArray<{ type: string; count: number }>): Promise<void> {
    if (claims.length === 0) return;
    await this.count(
      'INSERT INTO claims (org_id, type, time, count) SELECT $1, c.type, $2, c.count FROM unnest($3::text[], $4::int[]) AS c(type, count)',
      [orgId, this.now, claims.map((c) => c.type), claims.map((c) => c.count)],
    );
  }

  async reap(
    limit: number,
    cutoffs: { eventsBefore: number; idempotencyBefore: number; claimsBefore: number },
  ): Promise<number> {
    // Expired tasks another node is reaping (or anyone holds) are skipped, not waited for.
    const gone = await this.rows<DeletedRow>(
      `WITH gone AS (
         SELECT org_id, id FROM tasks WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ),
       s AS (DELETE FROM steps USING gone WHERE steps.org_id = gone.org_id AND steps.task_id = gone.id),
       d AS (DELETE FROM task_deps USING gone WHERE task_deps.org_id = gone.org_id AND task_deps.task_id = gone.id)
       DELETE FROM tasks USING gone WHERE tasks.org_id = gone.org_id AND tasks.id = gone.id
       RETURNING ${DELETED_COLUMNS.split(', ')
         .map((c) => `tasks.${c}`)
         .join(', ')}`,
      [this.now, limit],
    );
    for (const r of gone) this.announceDeleted(r);
    const batch = limit * 10;
    await this.client.query(REAP_EVENTS_SQL, [cutoffs.eventsBefore, batch]);
    await this.client.query(
      'DELETE FROM idempotency_keys WHERE (org_id, key) IN (SELECT org_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)',
      [cutoffs.idempotencyBefore, batch],
    );
    await this.client.query(
      'DELETE FROM claims WHERE ctid = ANY(ARRAY(SELECT ctid FROM claims WHERE time < $1 LIMIT $2))',
      [cutoffs.claimsBefore, batch],
    );
    return gone.length;
  }
}
