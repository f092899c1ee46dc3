/**
 * The queries of a read unit (one REPEATABLE READ, READ ONLY snapshot), and the base of a write
 * unit (pg-unit.ts), which adds locks through the hooks. Every query names its org.
 */
import type { PoolClient, QueryConfig, QueryResultRow } from 'pg';
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
  StoredEvent,
  StoreReader,
  TaskDocument,
  TaskFilter,
  TaskKey,
  TaskPage,
  TypeConfig,
} from '../task-store.js';
import {
  EVENT_COLUMNS,
  IDEMPOTENCY_COLUMNS,
  KEY_COLUMNS,
  ORG_COLUMNS,
  PROJECT_COLUMNS,
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
import { containsPattern } from '../like-pattern.js';
import {
  STEP_SELECT,
  TASK_DOCUMENT_BY_ID_SQL,
  TASK_DOCUMENT_BY_IDENTIFIER_SQL,
  TASK_SELECT,
  eachKey,
  fromRow,
  rowToTask,
  sortedKeys,
  type TaskRow,
} from './rows.js';

export class PgReader implements StoreReader {
  constructor(
    protected readonly client: PoolClient,
    readonly now: number,
  ) {}

  protected async rows<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(statement(text, values))).rows;
  }

  protected async count(text: string, values: unknown[] = []): Promise<number> {
    return (await this.client.query(statement(text, values))).rowCount ?? 0;
  }

  /** Rows of `SELECT ${TASK_SELECT} …` as arrays (TaskRow). */
  protected async taskRows(text: string, values: unknown[]): Promise<TaskRow[]> {
    return (await this.client.query<TaskRow>({ ...statement(text, values), rowMode: 'array' })).rows;
  }

  protected async tasks(text: string, values: unknown[]): Promise<Task[]> {
    const tasks = (await this.taskRows(text, values)).map(rowToTask);
    this.onTasksRead(tasks);
    return tasks;
  }

  /** Hook: every task a query of this unit returned. */
  protected onTasksRead(_tasks: readonly Task[]): void {}

  /** Hook: before an idempotency record is read. */
  protected async beforeIdempotencyRead(_orgId: string, _key: string): Promise<void> {}

  /** Hook: before events are listed. */
  protected async beforeEventsRead(): Promise<void> {}

  protected async task(text: string, values: unknown[]): Promise<Task | null> {
    return (await this.tasks(text, values))[0] ?? null;
  }

  // ---- orgs and keys ---------------------------------------------------------------------

  getOrg(orgId: string): Promise<Org | null> {
    return this.org(orgId, '');
  }

  /** The org's row, read as it is or (`FOR UPDATE`, in a write unit) locked. */
  protected async org(orgId: string, lock: '' | 'FOR UPDATE'): Promise<Org | null> {
    const [r] = await this.rows<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs WHERE id = $1 ${lock}`, [orgId]);
    return r ? fromRow.org(r) : null;
  }

  async countOrgs(): Promise<number> {
    const [r] = await this.rows<{ n: number }>('SELECT count(*) AS n FROM orgs');
    return r?.n ?? 0;
  }

  async findKeyByHash(hash: string): Promise<ApiKey | null> {
    const [r] = await this.rows<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return r ? fromRow.key(r) : null;
  }

  async listKeys(orgId: string): Promise<ApiKey[]> {
    return (
      await this.rows<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at, id`, [orgId])
    ).map(fromRow.key);
  }

  // ---- tasks, steps, events --------------------------------------------------------------

  getTask(orgId: string, taskId: string): Promise<Task | null> {
    return this.task(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND id = $2`, [orgId, taskId]);
  }

  getTaskByIdentifier(orgId: string, identifier: string): Promise<Task | null> {
    return this.task(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND identifier = $2`, [orgId, identifier]);
  }

  async getTasks(orgId: string, taskIds: readonly string[]): Promise<Task[]> {
    if (taskIds.length === 0) return [];
    return this.tasks(
      `SELECT t.* FROM ${eachKey('$2', `SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND id = k.id`, 't')}`,
      [orgId, sortedKeys(taskIds)],
    );
  }

  async listTasks(orgId: string, filter: TaskFilter, limit: number, afterId: string | null): Promise<TaskPage> {
    const values: unknown[] = [orgId];
    const param = (v: unknown) => `$${values.push(v)}`;
    const where = ['org_id = $1'];
    // Archived tasks are hidden unless asked for; then they are listed with the others.
    if (filter.archived !== true) where.push('archived_at IS NULL');
    if (filter.status && filter.status.length > 0) where.push(`status = ANY(${param(filter.status)}::text[])`);
    if (filter.type !== undefined) where.push(`type = ${param(filter.type)}`);
    if (filter.listId !== undefined) where.push(`list_id = ${param(filter.listId)}`);
    if (filter.projectId !== undefined) where.push(`project_id = ${param(filter.projectId)}`);
    if (filter.assignee !== undefined) where.push(`assignee = ${param(filter.assignee)}`);
    if (filter.label !== undefined) where.push(`labels ? ${param(filter.label)}`);
    if (filter.createdAfter !== undefined) where.push(`created_at > ${param(filter.createdAfter)}`);
    if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}`);
    // ILIKE folds case as the database's LC_CTYPE does (C.UTF-8 or a language locale: 'É' matches
    // 'é'; the C locale: ASCII only); a filter on the rows the other conditions and the id order walk.
    if (filter.titleContains !== undefined) {
      where.push(`title ILIKE ${param(containsPattern(filter.titleContains))} ESCAPE '\\'`);
    }
    if (afterId !== null) where.push(`id < ${param(afterId)}`);
    const sql = `SELECT ${TASK_SELECT} FROM tasks WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${param(limit + 1)}`;
    const rows = await this.taskRows(sql, values);
    const hasMore = rows.length > limit;
    const items = rows.slice(0, limit).map(rowToTask);
    return { items, hasMore, lastId: hasMore ? (items.at(-1)?.id ?? null) : null };
  }

  getDependents(orgId: string, taskId: string): Promise<Task[]> {
    return this.tasks(
      `SELECT ${TASK_SELECT} FROM tasks
        WHERE org_id = $1 AND id IN (SELECT task_id FROM task_deps WHERE org_id = $1 AND depends_on_id = $2)
        ORDER BY id`,
      [orgId, taskId],
    );
  }

  async dependedOn(orgId: string, taskIds: readonly string[]): Promise<Set<string>> {
    if (taskIds.length === 0) return new Set();
    const rows = await this.rows<{ id: string }>(
      `SELECT k.id FROM ${eachKey('$2', 'SELECT 1 FROM task_deps WHERE org_id = $1 AND depends_on_id = k.id LIMIT 1', 'd')}`,
      [orgId, sortedKeys(taskIds)],
    );
    return new Set(rows.map((r) => r.id));
  }

  async getSteps(orgId: string, taskId: string): Promise<Step[]> {
    return (
      await this.rows<StepRow>(`SELECT ${STEP_SELECT} FROM steps WHERE org_id = $1 AND task_id = $2 ORDER BY seq`, [
        orgId,
        taskId,
      ])
    ).map(fromRow.step);
  }

  async getStepsOf(orgId: string, taskIds: readonly string[]): Promise<Map<string, Step[]>> {
    const out = new Map<string, Step[]>(taskIds.map((id) => [id, []]));
    if (taskIds.length === 0) return out;
    const rows = await this.rows<StepRow>(
      `SELECT ${STEP_SELECT} FROM ${eachKey('$2', 'SELECT * FROM steps WHERE org_id = $1 AND task_id = k.id', 'steps')}
        ORDER BY task_id, seq`,
      [orgId, sortedKeys(taskIds)],
    );
    for (const r of rows) out.get(r.task_id)?.push(fromRow.step(r));
    return out;
  }

  /**
   * One task's events walk events_task (org_id, task_id, id), an org's walk the primary key
   * (org_id, id), other filters checked on the way. EXPLAIN of the generic plans, on a table of
   * 200,000 events: `Index Scan using events_task on events (Index Cond: org_id = $1 AND task_id =
   * $4 AND id > $2)`, and `Index Scan using events_pkey (Index Cond: org_id = $1 AND id > $2,
   * Filter: …)` without a task.
   */
  async listEvents(orgId: string, afterId: number, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
    await this.beforeEventsRead();
    const values: unknown[] = [orgId, afterId, limit];
    const param = (v: unknown): string => `$${values.push(v)}`;
    const more = eventConditions(filter, param, (column, list) => `${column} = ANY(${param(list)}::text[])`);
    const where = more.map((c) => ` AND ${c}`).join('');
    return (
      await this.rows<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE org_id = $1 AND id > $2${where} ORDER BY id LIMIT $3`,
        values,
      )
    ).map(fromRow.event);
  }

  /** The last id is the org's counter (001_init.sql), which only the committed units have moved. */
  async eventBounds(orgId: string): Promise<EventBounds> {
    await this.beforeEventsRead();
    const [r] = await this.rows<{ horizon: number; last_id: number }>(
      `SELECT coalesce((SELECT reaped_through FROM event_horizons WHERE org_id = $1), 0) AS horizon,
              coalesce((SELECT last_id FROM event_counters WHERE org_id = $1), 0) AS last_id`,
      [orgId],
    );
    return { horizon: r?.horizon ?? 0, lastId: r?.last_id ?? 0 };
  }

  // ---- projects and idempotency ----------------------------------------------------------

  async getProject(orgId: string, projectId: string): Promise<Project | null> {
    const [r] = await this.rows<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND id = $2`, [
      orgId,
      projectId,
    ]);
    return r ? fromRow.project(r) : null;
  }

  async getProjectByKey(orgId: string, key: string): Promise<Project | null> {
    const [r] = await this.rows<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND key = $2`, [
      orgId,
      key,
    ]);
    return r ? fromRow.project(r) : null;
  }

  async listProjects(orgId: string): Promise<Project[]> {
    return (
      await this.rows<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE org_id = $1 ORDER BY key`, [orgId])
    ).map(fromRow.project);
  }

  async getIdempotency(orgId: string, key: string, notBefore: number): Promise<IdempotencyRecord | null> {
    await this.beforeIdempotencyRead(orgId, key);
    const [r] = await this.rows<IdempotencyRow>(
      `SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND created_at >= $3`,
      [orgId, key, notBefore],
    );
    return r ? fromRow.idempotency(r) : null;
  }

  // ---- types, claims, lists, stats, the sweeper ------------------------------------------

  async getTypeConfig(orgId: string, type: string): Promise<TypeConfig | null> {
    const [r] = await this.rows<TypeRow>(`SELECT ${TYPE_COLUMNS} FROM task_types WHERE org_id = $1 AND type = $2`, [
      orgId,
      type,
    ]);
    return r ? fromRow.typeConfig(r) : null;
  }

  async listTypeConfigs(orgId: string): Promise<TypeConfig[]> {
    return (
      await this.rows<TypeRow>(`SELECT ${TYPE_COLUMNS} FROM task_types WHERE org_id = $1 ORDER BY type`, [orgId])
    ).map(fromRow.typeConfig);
  }

  async countClaims(orgId: string, since: number, type?: string): Promise<number> {
    const [r] =
      type === undefined
        ? await this.rows<{ n: number }>(
            'SELECT coalesce(sum(count), 0) AS n FROM claims WHERE org_id = $1 AND time >= $2',
            [orgId, since],
          )
        : await this.rows<{ n: number }>(
            'SELECT coalesce(sum(count), 0) AS n FROM claims WHERE org_id = $1 AND type = $3 AND time >= $2',
            [orgId, since, type],
          );
    return r?.n ?? 0;
  }

  async firstClaimSince(orgId: string, type: string, since: number): Promise<number | null> {
    const [r] = await this.rows<{ t: number | null }>(
      'SELECT min(time) AS t FROM claims WHERE org_id = $1 AND type = $2 AND time >= $3',
      [orgId, type, since],
    );
    return r?.t ?? null;
  }

  async nextRunAt(orgId: string, types: readonly string[]): Promise<number | null> {
    if (types.length === 0) return null;
    // Per type (a lateral subquery each), so every one is answered from tasks_claimable.
    const [r] = await this.rows<{ t: number | null }>(
      `SELECT min(m.t) AS t FROM unnest($2::text[]) AS ty(type),
         LATERAL (SELECT min(run_at) AS t FROM tasks
                   WHERE org_id = $1 AND type = ty.type AND status = 'queued' AND run_at > $3) m`,
      [orgId, types, this.now],
    );
    return r?.t ?? null;
  }

  async getListTasks(orgId: string, listId: string, limit: number): Promise<Task[]> {
    return (
      await this.taskRows(`SELECT ${TASK_SELECT} FROM tasks WHERE org_id = $1 AND list_id = $2 ORDER BY id LIMIT $3`, [
        orgId,
        listId,
        limit,
      ])
    ).map(rowToTask);
  }

  async countTasks(orgId: string, listId?: string): Promise<StatusCount[]> {
    return listId === undefined
      ? this.rows<StatusCount>(
          'SELECT status, type, count(*) AS count FROM tasks WHERE org_id = $1 GROUP BY status, type',
          [orgId],
        )
      : this.rows<StatusCount>(
          'SELECT status, type, count(*) AS count FROM tasks WHERE org_id = $1 AND list_id = $2 GROUP BY status, type',
          [orgId, listId],
        );
  }

  async taskCensus(): Promise<CensusRow[]> {
    return this.rows<CensusRow>(
      `SELECT status, type, count(*) AS count, min(coalesce(run_at, queued_at))
         FILTER (WHERE status = 'queued' AND (run_at IS NULL OR run_at <= $1)) AS "oldestClaimableAt"
       FROM tasks GROUP BY status, type`,
      [this.now],
    );
  }

  async countQueued(orgId: string, types: readonly string[]): Promise<Map<string, number>> {
    const out = new Map(types.map((t) => [t, 0]));
    const rows = await this.rows<{ type: string; n: number }>(
      "SELECT type, count(*) AS n FROM tasks WHERE org_id = $1 AND status = 'queued' AND type = ANY($2::text[]) GROUP BY type",
      [orgId, types],
    );
    for (const r of rows) out.set(r.type, r.n);
    return out;
  }

  async oldestQueuedAt(orgId: string, type?: string): Promise<number | null> {
    const claimable = "status = 'queued' AND (run_at IS NULL OR run_at <= $2)";
    const [r] =
      type === undefined
        ? await this.rows<{ t: number | null }>(
            `SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = $1 AND ${claimable}`,
            [orgId, this.now],
          )
        : // `Bitmap Index Scan on tasks_claimable` (org_id, type), partial on queued: 10 to 15 ms
          // for 10,000 queued tasks of the type (bench/type-stats-plans.ts).
          await this.rows<{ t: number | null }>(
            `SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = $1 AND type = $3 AND ${claimable}`,
            [orgId, this.now, type],
          );
    return r?.t ?? null;
  }

  /**
   * No index holds completed_at, and none was added for this. The planner picks from the existing
   * ones by the org's share of the table (bench/type-stats-plans.ts, after ANALYZE): for an org
   * that is a tenth of 110,000 tasks, `Index Scan using tasks_type` (org_id, type), status and
   * completed_at as a Filter, about 1 ms for its 2,500 tasks of the type; for the org that holds
   * the other 100,000, a (Parallel) Seq Scan of the table, rightly, as a quarter of its rows are of
   * the type: 30 to 80 ms, for the last hour as for the last day.
   */
  completionsByMinute(orgId: string, type: string, since: number): Promise<MinuteCompletions[]> {
    return this.rows<MinuteCompletions>(
      `SELECT (completed_at / 60000) * 60000 AS minute,
              count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status = 'failed') AS failed
         FROM tasks
        WHERE org_id = $1 AND status IN ('completed', 'failed') AND type = $2 AND completed_at >= $3
        GROUP BY 1 ORDER BY 1`,
      [orgId, type, since],
    );
  }

  async overdueTasks(limit: number): Promise<OverdueTask[]> {
    const rows = await this.rows<OverdueRow>(
      `SELECT org_id, id, 'lease_expired' AS reason FROM tasks WHERE status = 'in_progress' AND lease_expires_at <= $1
       UNION ALL
       SELECT org_id, id, 'timeout' AS reason FROM tasks WHERE status = 'in_progress' AND timeout_at <= $1
       LIMIT $2`,
      [this.now, limit],
    );
    return rows.map(fromRow.overdue);
  }
}

/** The task document (task-document.ts) of one task; one statement, outside any unit. */
export async function taskDocument(client: PoolClient, orgId: string, key: TaskKey): Promise<TaskDocument | null> {
  const { rows } =
    'id' in key
      ? await client.query<TaskDocument>(statement(TASK_DOCUMENT_BY_ID_SQL, [orgId, key.id]))
      : await client.query<TaskDocument>(statement(TASK_DOCUMENT_BY_IDENTIFIER_SQL, [orgId, key.identifier]));
  return rows[0] ?? null;
}

/**
 * Statements are prepared once per connection and then only bound and executed: PostgreSQL parses
 * and plans each text once instead of on every call. Their texts are few (each is built from a
 * fixed template; updateTasks has one per set of changed columns), but the names are capped so
 * that an unforeseen source of texts cannot grow every connection's statement cache without end.
 */
const MAX_PREPARED = 500;
const statementNames = new Map<string, string>();

export function statement(text: string, values: unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `tl${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name === undefined ? { text, values } : { name, text, values };
}
