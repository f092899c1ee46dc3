/**
 * The queries of a read unit (a deferred transaction on the reader connection: one committed
 * snapshot), and the base of a write unit (sqlite-unit.ts), which adds the writes. Every query
 * names its org.
 */
import type Database from 'better-sqlite3';
import type { Step, Task } from '../../domain/task.js';
import type { ApiKey } from '../../domain/api-key.js';
import type { Org } from '../../domain/org.js';
import type { Project } from '../../domain/project.js';
import type {
  EventBounds,
  EventFilter,
  IdempotencyRecord,
  MinuteCompletions,
  OverdueTask,
  StatusCount,
  CensusRow,
  StoreReader,
  StoredEvent,
  TaskFilter,
  TaskPage,
  TypeConfig,
} from '../task-store.js';
import type { TaskDocument, TaskKey } from '../task-document.js';
import { containsPattern } from '../like-pattern.js';
import {
  EVENT_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  KEY_COLUMNS,
  ORG_COLUMNS,
  PROJECT_COLUMNS,
  STEP_COLUMNS,
  TYPE_COLUMNS,
  eventConditions,
  type EventRow,
  type IdempotencyRow,
  type KeyRow,
  type OrgRow,
  type OverdueRow,
  type ProjectRow,
  type StepRow,
  type TypeRow,
} from '../rows.js';
import {
  TASK_DOCUMENT_BY_ID_SQL,
  TASK_DOCUMENT_BY_IDENTIFIER_SQL,
  TASK_SELECT,
  fromRow,
  rowToTask,
  type TaskRow,
} from './rows.js';

export type Db = Database.Database;

export class SqliteReader implements StoreReader {
  constructor(
    protected readonly db: Db,
    readonly now: number,
  ) {}

  protected stmt(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  /** A statement that reads task rows (TASK_SELECT …): in raw mode, rows come as arrays (TaskRow). */
  protected rows(sql: string): Database.Statement {
    return prepared(this.db, sql, true);
  }

  // ---- orgs and keys ---------------------------------------------------------------------

  async getOrg(orgId: string): Promise<Org | null> {
    const r = this.stmt(`SELECT ${ORG_COLUMNS} FROM orgs WHERE id = ?`).get(orgId) as OrgRow | undefined;
    return r ? fromRow.org(r) : null;
  }

  async countOrgs(): Promise<number> {
    return (this.stmt('SELECT count(*) AS n FROM orgs').get() as { n: number }).n;
  }

  async findKeyByHash(hash: string): Promise<ApiKey | null> {
    const r = this.stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`).get(hash) as KeyRow | undefined;
    return r ? fromRow.key(r) : null;
  }

  async listKeys(orgId: string): Promise<ApiKey[]> {
    return (
      this.stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, id`).all(orgId) as KeyRow[]
    ).map(fromRow.key);
  }

  // ---- tasks, steps, events --------------------------------------------------------------

  async getTask(orgId: string, taskId: string): Promise<Task | null> {
    const r = this.rows(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = ? AND id = ?`).get(orgId, taskId) as
      TaskRow | undefined;
    return r ? rowToTask(r) : null;
  }

  async getTaskByIdentifier(orgId: string, identifier: string): Promise<Task | null> {
    const r = this.rows(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = ? AND identifier = ?`).get(
      orgId,
      identifier,
    ) as TaskRow | undefined;
    return r ? rowToTask(r) : null;
  }

  async getTasks(orgId: string, taskIds: readonly string[]): Promise<Task[]> {
    if (taskIds.length === 0) return [];
    const rows = this.rows(
      `SELECT ${TASK_SELECT} FROM tasks WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))`,
    ).all(orgId, JSON.stringify(taskIds)) as TaskRow[];
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
    if (filter.titleContains !== undefined) {
      // SQLite's LIKE ignores case for ASCII letters only (no ICU here): 'É' never matches 'é'.
      // The match is a filter on the rows the other conditions and the id order already walk.
      where.push("title LIKE @title ESCAPE '\\'");
      params.title = containsPattern(filter.titleContains);
    }
    if (afterId !== null) {
      where.push('id < @afterId');
      params.afterId = afterId;
    }
    const sql = `SELECT ${TASK_SELECT} FROM tasks WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
    const rows = this.rows(sql).all(params) as TaskRow[];
    const hasMore = rows.length > limit;
    const items = rows.slice(0, limit).map(rowToTask);
    return { items, hasMore, lastId: hasMore ? (items.at(-1)?.id ?? null) : null };
  }

  async getDependents(orgId: string, taskId: string): Promise<Task[]> {
    const rows = this.rows(
      `SELECT ${TASK_SELECT} FROM tasks WHERE org_id = ? AND id IN (SELECT task_id FROM task_deps WHERE org_id = ? AND depends_on_id = ?) ORDER BY id`,
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
    const rows = this.stmt(`SELECT ${STEP_COLUMNS} FROM steps WHERE org_id = ? AND task_id = ? ORDER BY seq`).all(
      orgId,
      taskId,
    ) as StepRow[];
    return rows.map(fromRow.step);
  }

  async getStepsOf(orgId: string, taskIds: readonly string[]): Promise<Map<string, Step[]>> {
    const out = new Map<string, Step[]>(taskIds.map((id) => [id, []]));
    if (taskIds.length === 0) return out;
    const rows = this.stmt(
      `SELECT ${STEP_COLUMNS} FROM steps WHERE org_id = ? AND task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, seq`,
    ).all(orgId, JSON.stringify(taskIds)) as StepRow[];
    for (const r of rows) out.get(r.task_id)?.push(fromRow.step(r));
    return out;
  }

  /**
   * One task's events walk events_task (org_id, task_id, id); an org's walk events_org (org_id,
   * id), other filters checked on the way. EXPLAIN QUERY PLAN, with the statistics of the
   * migrations: `SEARCH events USING INDEX events_task (org_id=? AND task_id=? AND id>?)`, and
   * `SEARCH events USING INDEX events_org (org_id=? AND id>?)` without a task.
   */
  async listEvents(orgId: string, afterId: number, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
    const values: unknown[] = [orgId, afterId];
    const param = (v: unknown): string => {
      values.push(v);
      return '?';
    };
    const more = eventConditions(filter, param, (column, list) => {
      values.push(JSON.stringify(list));
      return `${column} IN (SELECT value FROM json_each(?))`;
    });
    values.push(limit);
    const where = more.map((c) => ` AND ${c}`).join('');
    const rows = this.stmt(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE org_id = ? AND id > ?${where} ORDER BY id LIMIT ?`,
    ).all(...values) as EventRow[];
    return rows.map(fromRow.event);
  }

  /**
   * Ids are one AUTOINCREMENT across orgs (never reused), so the org's last id is its highest
   * stored one, or the horizon once the reaper took them all.
   */
  async eventBounds(orgId: string): Promise<EventBounds> {
    const r = this.stmt(
      `SELECT coalesce((SELECT reaped_through FROM event_horizons WHERE org_id = ?), 0) AS horizon,
              coalesce((SELECT max(id) FROM events WHERE org_id = ?), 0) AS last_id`,
    ).get(orgId, orgId) as { horizon: number; last_id: number };
    return { horizon: r.horizon, lastId: Math.max(r.horizon, r.last_id) };
  }

  // ---- projects and idempotency ----------------------------------------------------------

  async getProject(orgId: string, projectId: string): Promise<Project | null> {
    const r = this.stmt(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = ? AND id = ?`).get(orgId, projectId) as
      ProjectRow | undefined;
    return r ? fromRow.project(r) : null;
  }

  async getProjectByKey(orgId: string, key: string): Promise<Project | null> {
    const r = this.stmt(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = ? AND key = ?`).get(orgId, key) as
      ProjectRow | undefined;
    return r ? fromRow.project(r) : null;
  }

  async listProjects(orgId: string): Promise<Project[]> {
    return (
      this.stmt(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = ? ORDER BY key`).all(orgId) as ProjectRow[]
    ).map(fromRow.project);
  }

  async getIdempotency(orgId: string, key: string, notBefore: number): Promise<IdempotencyRecord | null> {
    const r = this.stmt(
      `SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE org_id = ? AND key = ? AND created_at >= ?`,
    ).get(orgId, key, notBefore) as IdempotencyRow | undefined;
    return r ? fromRow.idempotency(r) : null;
  }

  // ---- types, claims, lists, stats, the sweeper ------------------------------------------

  async getTypeConfig(orgId: string, type: string): Promise<TypeConfig | null> {
    const r = this.stmt(`SELECT ${TYPE_COLUMNS} FROM task_types WHERE org_id = ? AND type = ?`).get(orgId, type) as
      TypeRow | undefined;
    return r ? fromRow.typeConfig(r) : null;
  }

  async listTypeConfigs(orgId: string): Promise<TypeConfig[]> {
    return (
      this.stmt(`SELECT ${TYPE_COLUMNS} FROM task_types WHERE org_id = ? ORDER BY type`).all(orgId) as TypeRow[]
    ).map(fromRow.typeConfig);
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

  async getListTasks(orgId: string, listId: string, limit: number): Promise<Task[]> {
    const rows = this.rows(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = ? AND list_id = ? ORDER BY id LIMIT ?`).all(
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

  async taskCensus(): Promise<CensusRow[]> {
    return this.stmt(
      `SELECT status, type, count(*) AS count, min(CASE WHEN status = 'queued' AND (run_at IS NULL OR run_at <= ?)
         THEN coalesce(run_at, queued_at) END) AS oldestClaimableAt
       FROM tasks GROUP BY status, type`,
    ).all(this.now) as CensusRow[];
  }

  async countQueued(orgId: string, types: readonly string[]): Promise<Map<string, number>> {
    const out = new Map(types.map((t) => [t, 0]));
    const rows = this.stmt(
      "SELECT type, count(*) AS n FROM tasks WHERE org_id = ? AND status = 'queued' AND type IN (SELECT value FROM json_each(?)) GROUP BY type",
    ).all(orgId, JSON.stringify(types)) as Array<{ type: string; n: number }>;
    for (const r of rows) out.set(r.type, r.n);
    return out;
  }

  async oldestQueuedAt(orgId: string, type?: string): Promise<number | null> {
    const claimable = "status = 'queued' AND (run_at IS NULL OR run_at <= @now)";
    const r = (
      type === undefined
        ? this.stmt(
            `SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = @orgId AND ${claimable}`,
          ).get({
            orgId,
            now: this.now,
          })
        : // `SEARCH tasks USING INDEX tasks_claimable (org_id=? AND type=?)`, the type's queued rows:
          // 15 to 35 ms for 10,000 of them (bench/type-stats-plans.ts).
          this.stmt(
            `SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = @orgId AND type = @type AND ${claimable}`,
          ).get({ orgId, type, now: this.now })
    ) as { t: number | null };
    return r.t;
  }

  /**
   * No index holds completed_at, and none was added for this: the rows come from tasks_type
   * (org_id, type, id), every task of the type, and status and completed_at are checked on each.
   * EXPLAIN QUERY PLAN: `SEARCH tasks USING INDEX tasks_type (org_id=? AND type=?)`, `USE TEMP
   * B-TREE FOR GROUP BY`. With 100,000 tasks in the org (25,000 of the type, 15,000 of them
   * finished), 25 to 60 ms on a busy 2-core machine, for the last hour as for the last day: the
   * cost follows the type's task count, not the window (bench/type-stats-plans.ts).
   */
  async completionsByMinute(orgId: string, type: string, since: number): Promise<MinuteCompletions[]> {
    return this.stmt(
      `SELECT (completed_at / 60000) * 60000 AS minute,
              sum(status = 'completed') AS completed, sum(status = 'failed') AS failed
         FROM tasks
        WHERE org_id = ? AND status IN ('completed', 'failed') AND type = ? AND completed_at >= ?
        GROUP BY minute ORDER BY minute`,
    ).all(orgId, type, since) as MinuteCompletions[];
  }

  async overdueTasks(limit: number): Promise<OverdueTask[]> {
    const rows = this.stmt(
      `SELECT org_id, id, 'lease_expired' AS reason FROM tasks WHERE status = 'in_progress' AND lease_expires_at <= @now
       UNION ALL
       SELECT org_id, id, 'timeout' AS reason FROM tasks WHERE status = 'in_progress' AND timeout_at <= @now
       LIMIT @limit`,
    ).all({ now: this.now, limit }) as OverdueRow[];
    return rows.map(fromRow.overdue);
  }
}

/** The task document (task-document.ts) of one task; one statement, outside any unit. */
export function taskDocument(db: Db, orgId: string, key: TaskKey): TaskDocument | null {
  const r =
    'id' in key
      ? prepared(db, TASK_DOCUMENT_BY_ID_SQL).get(orgId, key.id)
      : prepared(db, TASK_DOCUMENT_BY_IDENTIFIER_SQL).get(orgId, key.identifier);
  return (r as TaskDocument | undefined) ?? null;
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
