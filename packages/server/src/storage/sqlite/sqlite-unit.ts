/**
 * One unit of work of the SQLite adapter: every SQL statement of the TaskStore contract, run on the
 * unit's connection. The store (sqlite-store.ts) decides when units begin and end.
 */
import type Database from 'better-sqlite3';
import { claimOrder } from '../../domain/claim-order.js';
import { TasklaneError } from '../../domain/errors.js';
import type { TaskStatus } from '../../domain/status.js';
import type { Json, Step, Task } from '../../domain/task.js';
import type {
  ApiKey,
  IdempotencyRecord,
  NewEvent,
  Org,
  OverdueTask,
  Project,
  Scope,
  StatusCount,
  StoreWriter,
  StoredEvent,
  TaskChange,
  TaskFilter,
  TaskPage,
  TypeConfig,
} from '../task-store.js';
import { UnitWrites, type RecordCache } from '../record-cache.js';
import { ALL_UPDATABLE, changedColumns, type ColumnSet } from '../task-columns.js';
import type { TaskDocument, TaskKey } from '../task-document.js';
import {
  TASK_COLUMNS,
  TASK_DOCUMENT_BY_ID_SQL,
  TASK_DOCUMENT_BY_IDENTIFIER_SQL,
  TASK_SELECT,
  rowToTask,
  sqliteValue,
  taskValues,
  type TaskRow,
} from './rows.js';

type Db = Database.Database;

const EVENT_COLUMNS = ['org_id', 'task_id', 'type', 'time', 'data'] as const;

interface KeyRow {
  org_id: string;
  id: string;
  name: string;
  scopes: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}
interface ProjectRow {
  org_id: string;
  id: string;
  key: string;
  name: string;
  next_number: number;
  created_at: number;
}
interface StepRow {
  task_id: string;
  time: number;
  message: string;
  data: string | null;
}
interface EventRow {
  id: number;
  org_id: string;
  task_id: string;
  type: string;
  time: number;
  data: string;
}

const keyFromRow = (r: KeyRow): ApiKey => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  scopes: JSON.parse(r.scopes) as Scope[],
  hash: r.hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});
const projectFromRow = (r: ProjectRow): Project => ({
  id: r.id,
  orgId: r.org_id,
  key: r.key,
  name: r.name,
  nextNumber: r.next_number,
  createdAt: r.created_at,
});
const stepFromRow = (r: StepRow): Step =>
  r.data === null
    ? { time: r.time, message: r.message }
    : { time: r.time, message: r.message, data: JSON.parse(r.data) as Json };

/** The task document (task-document.ts) of one task; one statement, outside any unit. */
export function taskDocument(db: Db, orgId: string, key: TaskKey): TaskDocument | null {
  const r =
    'id' in key
      ? prepared(db, TASK_DOCUMENT_BY_ID_SQL).get(orgId, key.id)
      : prepared(db, TASK_DOCUMENT_BY_IDENTIFIER_SQL).get(orgId, key.identifier);
  return (r as TaskDocument | undefined) ?? null;
}

/** One unit of work on one connection. Statements are cached per connection by better-sqlite3's prepare. */
export class SqliteUnit implements StoreWriter {
  constructor(
    private readonly db: Db,
    readonly now: number,
    private readonly changes: TaskChange[],
    /** Write units: the store's cache of in-progress records, and what this unit wrote for it. */
    private readonly cache: RecordCache | null = null,
    private readonly writes: UnitWrites = new UnitWrites(),
  ) {}

  private stmt(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  /** A statement that reads task rows (TASK_SELECT …): in raw mode, rows come as arrays (TaskRow). */
  private rows(sql: string): Database.Statement {
    return prepared(this.db, sql, true);
  }

  private depth = 0;

  async nested<T>(fn: () => Promise<T>): Promise<T> {
    const name = `n${++this.depth}`;
    const announced = this.changes.length;
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
      this.writes.undo(written);
      throw err;
    } finally {
      this.depth--;
    }
  }

  async getOrg(orgId: string): Promise<Org | null> {
    const r = this.stmt('SELECT id, name, created_at FROM orgs WHERE id = ?').get(orgId) as
      { id: string; name: string; created_at: number } | undefined;
    return r ? { id: r.id, name: r.name, createdAt: r.created_at } : null;
  }

  async countOrgs(): Promise<number> {
    return (this.stmt('SELECT count(*) AS n FROM orgs').get() as { n: number }).n;
  }

  async findKeyByHash(hash: string): Promise<ApiKey | null> {
    const r = this.stmt('SELECT * FROM api_keys WHERE hash = ?').get(hash) as KeyRow | undefined;
    return r ? keyFromRow(r) : null;
  }

  async listKeys(orgId: string): Promise<ApiKey[]> {
    return (this.stmt('SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at, id').all(orgId) as KeyRow[]).map(
      keyFromRow,
    );
  }

  async getTask(orgId: string, taskId: string): Promise<Task | null> {
    const r = this.rows(`${TASK_SELECT} WHERE org_id = ? AND id = ?`).get(orgId, taskId) as TaskRow | undefined;
    return r ? rowToTask(r) : null;
  }

  async getTaskForUpdate(orgId: string, taskId: string): Promise<Task | null> {
    // The whole unit holds SQLite's write lock (BEGIN IMMEDIATE): nothing else can change the row.
    return (await this.getTasksForUpdate(orgId, [taskId]))[0] ?? null;
  }

  async getTaskByIdentifier(orgId: string, identifier: string): Promise<Task | null> {
    const r = this.rows(`${TASK_SELECT} WHERE org_id = ? AND identifier = ?`).get(orgId, identifier) as
      TaskRow | undefined;
    return r ? rowToTask(r) : null;
  }

  async getTasks(orgId: string, taskIds: readonly string[]): Promise<Task[]> {
    if (taskIds.length === 0) return [];
    const rows = this.rows(`${TASK_SELECT} WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))`).all(
      orgId,
      JSON.stringify(taskIds),
    ) as TaskRow[];
    return rows.map(rowToTask);
  }

  async listTasks(orgId: string, filter: TaskFilter, limit: number, afterId: string | null): Promise<TaskPage> {
    const where = ['org_id = @orgId'];
    const params: Record<string, unknown> = { orgId, limit: limit + 1 };
    // Archived tasks are hidden unless asked for; then they are listed with the others.
    if (filter.archived !== true) where.push('archived_at IS NULL');
    if (filter.status && filter.status.length > 0) {
      const names = filter.status.map((_, i) => `@status${i}`);
      where.push(`status IN (${names.join(', ')})`);
      filter.status.forEach((st, i) => (params[`status${i}`] = st));
    }
    const eq: Array<[keyof TaskFilter, string]> = [
      ['type', 'type'],
      ['listId', 'list_id'],
      ['projectId', 'project_id'],
      ['assignee', 'assignee'],
    ];
    for (const [field, column] of eq) {
      if (filter[field] !== undefined) {
        where.push(`${column} = @${field}`);
        params[field] = filter[field];
      }
    }
    if (filter.label !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(labels) WHERE value = @label)');
      params.label = filter.label;
    }
    if (filter.createdAfter !== undefined) {
      where.push('created_at > @createdAfter');
      params.createdAfter = filter.createdAfter;
    }
    if (filter.createdBefore !== undefined) {
      where.push('created_at < @createdBefore');
      params.createdBefore = filter.createdBefore;
    }
    if (afterId !== null) {
      where.push('id < @afterId');
      params.afterId = afterId;
    }
    const sql = `${TASK_SELECT} WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
    const rows = this.rows(sql).all(params) as TaskRow[];
    const hasMore = rows.length > limit;
    const items = rows.slice(0, limit).map(rowToTask);
    return { items, hasMore, lastId: hasMore ? (items.at(-1)?.id ?? null) : null };
  }

  async getDependents(orgId: string, taskId: string): Promise<Task[]> {
    const rows = this.rows(
      `${TASK_SELECT} WHERE org_id = ? AND id IN (SELECT task_id FROM task_deps WHERE org_id = ? AND depends_on_id = ?) ORDER BY id`,
    ).all(orgId, orgId, taskId) as TaskRow[];
    return rows.map(rowToTask);
  }

  async dependedOn(orgId: string, taskIds: readonly string[]): Promise<Set<string>> {
    if (taskIds.length === 0) return new Set();
    const rows = this.stmt(
      'SELECT DISTINCT depends_on_id AS id FROM task_deps WHERE org_id = ? AND depends_on_id IN (SELECT value FROM json_each(?))',
    ).all(orgId, JSON.stringify(taskIds)) as Array<{ id: string }>;
    return new Set(rows.map((r) => r.id));
  }

  async getSteps(orgId: string, taskId: string): Promise<Step[]> {
    const rows = this.stmt(
      'SELECT task_id, time, message, data FROM steps WHERE org_id = ? AND task_id = ? ORDER BY seq',
    ).all(orgId, taskId) as StepRow[];
    return rows.map(stepFromRow);
  }

  async getStepsOf(orgId: string, taskIds: readonly string[]): Promise<Map<string, Step[]>> {
    const out = new Map<string, Step[]>(taskIds.map((id) => [id, []]));
    if (taskIds.length === 0) return out;
    const rows = this.stmt(
      'SELECT task_id, time, message, data FROM steps WHERE org_id = ? AND task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, seq',
    ).all(orgId, JSON.stringify(taskIds)) as StepRow[];
    for (const r of rows) out.get(r.task_id)?.push(stepFromRow(r));
    return out;
  }

  async getProject(orgId: string, projectId: string): Promise<Project | null> {
    const r = this.stmt('SELECT * FROM projects WHERE org_id = ? AND id = ?').get(orgId, projectId) as
      ProjectRow | undefined;
    return r ? projectFromRow(r) : null;
  }

  async getProjectByKey(orgId: string, key: string): Promise<Project | null> {
    const r = this.stmt('SELECT * FROM projects WHERE org_id = ? AND key = ?').get(orgId, key) as
      ProjectRow | undefined;
    return r ? projectFromRow(r) : null;
  }

  async listProjects(orgId: string): Promise<Project[]> {
    return (this.stmt('SELECT * FROM projects WHERE org_id = ? ORDER BY key').all(orgId) as ProjectRow[]).map(
      projectFromRow,
    );
  }

  async getIdempotency(orgId: string, key: string, notBefore: number): Promise<IdempotencyRecord | null> {
    const r = this.stmt('SELECT * FROM idempotency_keys WHERE org_id = ? AND key = ? AND created_at >= ?').get(
      orgId,
      key,
      notBefore,
    ) as { org_id: string; key: string; request_hash: string; task_ids: string; created_at: number } | undefined;
    return r
      ? {
          orgId: r.org_id,
          key: r.key,
          requestHash: r.request_hash,
          taskIds: JSON.parse(r.task_ids) as string[],
          createdAt: r.created_at,
        }
      : null;
  }

  async listEvents(orgId: string, afterId: number, limit: number): Promise<StoredEvent[]> {
    const rows = this.stmt('SELECT * FROM events WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?').all(
      orgId,
      afterId,
      limit,
    ) as EventRow[];
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      taskId: r.task_id,
      type: r.type as StoredEvent['type'],
      time: r.time,
      data: JSON.parse(r.data) as Json,
    }));
  }

  async insertOrg(org: Org): Promise<void> {
    this.stmt('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, org.createdAt);
  }

  async insertKey(key: ApiKey): Promise<void> {
    this.stmt(
      'INSERT INTO api_keys (org_id, id, name, scopes, hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      key.orgId,
      key.id,
      key.name,
      JSON.stringify(key.scopes),
      key.hash,
      key.createdAt,
      key.expiresAt,
      key.revokedAt,
    );
  }

  async revokeKey(orgId: string, keyId: string, at: number): Promise<boolean> {
    const r = this.stmt('UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL').run(
      at,
      orgId,
      keyId,
    );
    return r.changes === 1;
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
    const gone = this.stmt('DELETE FROM tasks WHERE org_id = ? AND id = ? RETURNING type, version, status, run_at').get(
      orgId,
      taskId,
    ) as { type: string; version: number; status: TaskStatus; run_at: number | null } | undefined;
    if (gone === undefined) return false;
    this.stmt('DELETE FROM steps WHERE org_id = ? AND task_id = ?').run(orgId, taskId);
    this.stmt('DELETE FROM task_deps WHERE org_id = ? AND task_id = ?').run(orgId, taskId);
    this.writes.deleted.push({ orgId, taskId });
    // Announced like a change, so that requests waiting on the task wake and find it gone.
    this.changes.push({
      orgId,
      taskId,
      type: gone.type,
      version: gone.version + 1,
      status: gone.status,
      runAt: gone.run_at,
    });
    return true;
  }

  async appendSteps(orgId: string, taskId: string, steps: readonly Step[]): Promise<void> {
    if (steps.length === 0) return;
    const { n } = this.stmt('SELECT coalesce(max(seq), 0) AS n FROM steps WHERE org_id = ? AND task_id = ?').get(
      orgId,
      taskId,
    ) as { n: number };
    const insert = this.stmt('INSERT INTO steps (org_id, task_id, seq, time, message, data) VALUES (?, ?, ?, ?, ?, ?)');
    steps.forEach((s, i) =>
      insert.run(orgId, taskId, n + i + 1, s.time, s.message, s.data === undefined ? null : JSON.stringify(s.data)),
    );
  }

  async appendEvents(events: readonly NewEvent[]): Promise<void> {
    insertRows(
      this.db,
      'events',
      EVENT_COLUMNS,
      events.map((e) => [e.orgId, e.taskId, e.type, this.now, JSON.stringify(e.data)]),
    );
  }

  async insertProject(p: Project): Promise<void> {
    this.stmt('INSERT INTO projects (org_id, id, key, name, next_number, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      p.orgId,
      p.id,
      p.key,
      p.name,
      p.nextNumber,
      p.createdAt,
    );
  }

  async takeProjectNumbers(orgId: string, projectId: string, count: number): Promise<number> {
    const r = this.stmt(
      'UPDATE projects SET next_number = next_number + ? WHERE org_id = ? AND id = ? RETURNING next_number - ? AS first',
    ).get(count, orgId, projectId, count) as { first: number } | undefined;
    if (!r) throw new TasklaneError('NOT_FOUND', 'No such project.');
    return r.first;
  }

  async getTypeConfig(orgId: string, type: string): Promise<TypeConfig | null> {
    const r = this.stmt('SELECT * FROM task_types WHERE org_id = ? AND type = ?').get(orgId, type) as
      TypeRow | undefined;
    return r ? typeFromRow(r) : null;
  }

  async listTypeConfigs(orgId: string): Promise<TypeConfig[]> {
    return (this.stmt('SELECT * FROM task_types WHERE org_id = ? ORDER BY type').all(orgId) as TypeRow[]).map(
      typeFromRow,
    );
  }

  async getListTasks(orgId: string, listId: string, limit: number): Promise<Task[]> {
    const rows = this.rows(`${TASK_SELECT} WHERE org_id = ? AND list_id = ? ORDER BY id LIMIT ?`).all(
      orgId,
      listId,
      limit,
    ) as TaskRow[];
    return rows.map(rowToTask);
  }

  async countTasks(orgId: string, listId?: string): Promise<StatusCount[]> {
    const rows = (
      listId === undefined
        ? this.stmt('SELECT status, type, count(*) AS count FROM tasks WHERE org_id = ? GROUP BY status, type').all(
            orgId,
          )
        : this.stmt(
            'SELECT status, type, count(*) AS count FROM tasks WHERE org_id = ? AND list_id = ? GROUP BY status, type',
          ).all(orgId, listId)
    ) as StatusCount[];
    return rows;
  }

  async oldestQueuedAt(orgId: string): Promise<number | null> {
    const r = this.stmt(
      "SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = ? AND status = 'queued' AND (run_at IS NULL OR run_at <= ?)",
    ).get(orgId, this.now) as { t: number | null };
    return r.t;
  }

  async countClaims(orgId: string, since: number, type?: string): Promise<number> {
    const r = (
      type === undefined
        ? this.stmt('SELECT coalesce(sum(count), 0) AS n FROM claims WHERE org_id = ? AND time >= ?').get(orgId, since)
        : this.stmt('SELECT coalesce(sum(count), 0) AS n FROM claims WHERE org_id = ? AND type = ? AND time >= ?').get(
            orgId,
            type,
            since,
          )
    ) as { n: number };
    return r.n;
  }

  async firstClaimSince(orgId: string, type: string, since: number): Promise<number | null> {
    const r = this.stmt('SELECT min(time) AS t FROM claims WHERE org_id = ? AND type = ? AND time >= ?').get(
      orgId,
      type,
      since,
    ) as {
      t: number | null;
    };
    return r.t;
  }

  async nextRunAt(orgId: string, types: readonly string[]): Promise<number | null> {
    // One query per type: `type = ?` lets the claim index answer it.
    const stmt = this.stmt(
      "SELECT min(run_at) AS t FROM tasks WHERE org_id = ? AND type = ? AND status = 'queued' AND run_at > ?",
    );
    let next: number | null = null;
    for (const type of types) {
      const { t } = stmt.get(orgId, type, this.now) as { t: number | null };
      if (t !== null && (next === null || t < next)) next = t;
    }
    return next;
  }

  async putTypeConfig(c: TypeConfig): Promise<void> {
    this.stmt('INSERT OR REPLACE INTO task_types (org_id, type, config, updated_at) VALUES (?, ?, ?, ?)').run(
      c.orgId,
      c.type,
      JSON.stringify({ concurrency: c.concurrency, rateLimit: c.rateLimit, defaults: c.defaults }),
      c.updatedAt,
    );
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

  async claimable(orgId: string, types: readonly string[], limit: number): Promise<Task[]> {
    // One query per type, each walking the claim index in claim order, merged here: `type = ?`
    // keeps the plan on tasks_claimable whatever the table holds.
    const stmt = this.rows(
      `${TASK_SELECT}
        WHERE org_id = ? AND type = ? AND status = 'queued' AND (run_at IS NULL OR run_at <= ?)
        ORDER BY priority DESC, coalesce(run_at, queued_at), id
        LIMIT ?`,
    );
    if (types.length === 1) return (stmt.all(orgId, types[0], this.now, limit) as TaskRow[]).map(rowToTask);
    const tasks: Task[] = [];
    for (const type of types)
      for (const row of stmt.all(orgId, type, this.now, limit) as TaskRow[]) tasks.push(rowToTask(row));
    return tasks.sort(claimOrder).slice(0, limit);
  }

  async recordClaims(orgId: string, claims: ReadonlyArray<{ type: string; count: number }>): Promise<void> {
    const insert = this.stmt('INSERT INTO claims (org_id, type, time, count) VALUES (?, ?, ?, ?)');
    for (const c of claims) insert.run(orgId, c.type, this.now, c.count);
  }

  async overdueTasks(limit: number): Promise<OverdueTask[]> {
    const rows = this.stmt(
      `SELECT org_id, id, 'lease_expired' AS reason FROM tasks WHERE status = 'in_progress' AND lease_expires_at <= @now
       UNION ALL
       SELECT org_id, id, 'timeout' AS reason FROM tasks WHERE status = 'in_progress' AND timeout_at <= @now
       LIMIT @limit`,
    ).all({ now: this.now, limit }) as Array<{ org_id: string; id: string; reason: OverdueTask['reason'] }>;
    return rows.map((r) => ({ orgId: r.org_id, taskId: r.id, reason: r.reason }));
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
    // Events are appended in time order: the oldest ids are the oldest rows (no time index needed).
    this.stmt('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? ORDER BY id LIMIT ?)').run(
      cutoffs.eventsBefore,
      limit * 10,
    );
    this.stmt(
      'DELETE FROM idempotency_keys WHERE (org_id, key) IN (SELECT org_id, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
    ).run(cutoffs.idempotencyBefore, limit * 10);
    this.stmt('DELETE FROM claims WHERE rowid IN (SELECT rowid FROM claims WHERE time < ? LIMIT ?)').run(
      cutoffs.claimsBefore,
      limit * 10,
    );
    return expired.length;
  }

  async putIdempotency(rec: IdempotencyRecord): Promise<void> {
    // A record older than the retention window may still be there (the reaper has not run): replace it.
    this.stmt(
      'INSERT OR REPLACE INTO idempotency_keys (org_id, key, request_hash, task_ids, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(rec.orgId, rec.key, rec.requestHash, JSON.stringify(rec.taskIds), rec.createdAt);
  }
}

const changeOf = (t: Task): TaskChange => ({
  orgId: t.orgId,
  taskId: t.id,
  type: t.type,
  version: t.version,
  status: t.status,
  runAt: t.runAt,
});

interface TypeRow {
  org_id: string;
  type: string;
  config: string;
  updated_at: number;
}
const typeFromRow = (r: TypeRow): TypeConfig => {
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

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();
/** A statement prepared once per connection and reused (better-sqlite3 statements are cheap to run). */
export function prepared(db: Db, sql: string, raw = false): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    // A text is always used one way: task rows (TASK_SELECT) raw, everything else as objects.
    if (raw) stmt.raw(true);
    cache.set(sql, stmt);
  }
  return stmt;
}
