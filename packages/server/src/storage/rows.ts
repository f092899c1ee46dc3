/**
 * Records ↔ rows, the part both adapters share: the columns of each table but tasks (those are
 * task-columns.ts'), the parameters a record is written with, and how a row read back becomes a
 * record. The one difference between the databases, how a JSON column arrives (text in SQLite,
 * parsed jsonb in PostgreSQL), is the RowCodec each adapter passes to `rowMappers`. Written, a JSON
 * value is JSON text in both: PostgreSQL casts a text parameter to jsonb.
 */
import type { TaskStatus } from '../domain/status.js';
import type { Json, Step, Task } from '../domain/task.js';
import type { ApiKey } from '../domain/api-key.js';
import { NO_ORG_DEFAULTS, type Org } from '../domain/org.js';
import type { Project } from '../domain/project.js';
import type { Scope } from '../domain/scope.js';
import type {
  EventFilter,
  IdempotencyRecord,
  NewOrg,
  OverdueTask,
  StoredEvent,
  TaskChange,
  TypeConfig,
} from './task-store.js';
import type { RowCodec } from './task-columns.js';

/** Column lists, in the order of the parameters below (`keyValues` …). */
export const ORG_COLUMNS = 'id, name, created_at, default_max_retries, default_ttl_seconds';
export const KEY_COLUMNS = 'org_id, id, name, scopes, hash, created_at, expires_at, revoked_at';
export const PROJECT_COLUMNS = 'org_id, id, key, name, next_number, created_at';
export const EVENT_COLUMNS = 'org_id, id, task_id, type, task_type, list_id, project_id, time, data';
/** PostgreSQL selects `data` as text instead (see StepRow). */
export const STEP_COLUMNS = 'task_id, time, message, data';
export const IDEMPOTENCY_COLUMNS = 'org_id, key, request_hash, task_ids, created_at';
export const TYPE_COLUMNS = 'org_id, type, config, updated_at';
/** What a deleted task's row returns, to announce the deletion (deletedChange). */
export const DELETED_COLUMNS = 'org_id, id, type, version, status, run_at';

export interface OrgRow {
  id: string;
  name: string;
  created_at: number;
  default_max_retries: number | null;
  default_ttl_seconds: number | null;
}
/** JSON columns (`scopes`, `task_ids`, `config`, event `data`) as the driver gives them. */
export interface KeyRow {
  org_id: string;
  id: string;
  name: string;
  scopes: unknown;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}
export interface ProjectRow {
  org_id: string;
  id: string;
  key: string;
  name: string;
  next_number: number;
  created_at: number;
}
/**
 * `data` as JSON text in both databases (PostgreSQL selects it `::text`): a jsonb `null` and an
 * SQL NULL must stay apart, and a parsed value cannot tell them apart. A step with `data: null`
 * comes back with it; one without data, without.
 */
export interface StepRow {
  task_id: string;
  time: number;
  message: string;
  data: string | null;
}
export interface EventRow {
  org_id: string;
  id: number;
  task_id: string;
  type: string;
  task_type: string;
  list_id: string | null;
  project_id: string | null;
  time: number;
  data: unknown;
}
export interface IdempotencyRow {
  org_id: string;
  key: string;
  request_hash: string;
  task_ids: unknown;
  created_at: number;
}
export interface TypeRow {
  org_id: string;
  type: string;
  config: unknown;
  updated_at: number;
}
export interface OverdueRow {
  org_id: string;
  id: string;
  reason: OverdueTask['reason'];
}
export interface DeletedRow {
  org_id: string;
  id: string;
  type: string;
  version: number;
  status: TaskStatus;
  run_at: number | null;
}

/** Row → record, for one driver. Each is a plain function (`rows.map(fromRow.key)` works). */
export interface RowMappers {
  org(r: OrgRow): Org;
  key(r: KeyRow): ApiKey;
  project(r: ProjectRow): Project;
  step(r: StepRow): Step;
  event(r: EventRow): StoredEvent;
  idempotency(r: IdempotencyRow): IdempotencyRecord;
  typeConfig(r: TypeRow): TypeConfig;
  overdue(r: OverdueRow): OverdueTask;
}

/** The row mappers of a driver whose JSON columns `codec.json` reads. */
export function rowMappers(codec: RowCodec): RowMappers {
  return {
    org: (r) => ({
      id: r.id,
      name: r.name,
      createdAt: r.created_at,
      defaults: { maxRetries: r.default_max_retries, ttlSeconds: r.default_ttl_seconds },
    }),
    key: (r) => ({
      id: r.id,
      orgId: r.org_id,
      name: r.name,
      scopes: codec.json(r.scopes) as Scope[],
      hash: r.hash,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
    }),
    project: (r) => ({
      id: r.id,
      orgId: r.org_id,
      key: r.key,
      name: r.name,
      nextNumber: r.next_number,
      createdAt: r.created_at,
    }),
    step: (r) =>
      r.data === null
        ? { time: r.time, message: r.message }
        : { time: r.time, message: r.message, data: JSON.parse(r.data) as Json },
    event: (r) => ({
      id: r.id,
      orgId: r.org_id,
      taskId: r.task_id,
      type: r.type as StoredEvent['type'],
      taskType: r.task_type,
      listId: r.list_id,
      projectId: r.project_id,
      time: r.time,
      data: codec.json(r.data) as Json,
    }),
    idempotency: (r) => ({
      orgId: r.org_id,
      key: r.key,
      requestHash: r.request_hash,
      taskIds: codec.json(r.task_ids) as string[],
      createdAt: r.created_at,
    }),
    typeConfig: (r) => {
      const c = codec.json(r.config) as Pick<TypeConfig, 'concurrency' | 'rateLimit' | 'defaults'>;
      return {
        orgId: r.org_id,
        type: r.type,
        concurrency: c.concurrency,
        rateLimit: c.rateLimit,
        defaults: c.defaults,
        updatedAt: r.updated_at,
      };
    },
    overdue: (r) => ({ orgId: r.org_id, taskId: r.id, reason: r.reason }),
  };
}

// ---- records → parameters, in the column lists' order ---------------------------------------

export const orgValues = (o: NewOrg): unknown[] => {
  const d = o.defaults ?? NO_ORG_DEFAULTS;
  return [o.id, o.name, o.createdAt, d.maxRetries, d.ttlSeconds];
};

export const keyValues = (k: ApiKey): unknown[] => [
  k.orgId,
  k.id,
  k.name,
  JSON.stringify(k.scopes),
  k.hash,
  k.createdAt,
  k.expiresAt,
  k.revokedAt,
];

export const projectValues = (p: Project): unknown[] => [p.orgId, p.id, p.key, p.name, p.nextNumber, p.createdAt];

export const idempotencyValues = (rec: IdempotencyRecord): unknown[] => [
  rec.orgId,
  rec.key,
  rec.requestHash,
  JSON.stringify(rec.taskIds),
  rec.createdAt,
];

export const typeConfigValues = (c: TypeConfig): unknown[] => [
  c.orgId,
  c.type,
  JSON.stringify({ concurrency: c.concurrency, rateLimit: c.rateLimit, defaults: c.defaults }),
  c.updatedAt,
];

/**
 * The conditions of listEvents beyond org and id, for both databases: `param` writes a value's
 * placeholder, `anyOf` the test of a column against a list. Written in one fixed order, so each
 * combination of filters is one statement text (prepared once).
 */
export function eventConditions(
  filter: EventFilter,
  param: (value: unknown) => string,
  anyOf: (column: string, values: readonly string[]) => string,
): string[] {
  const where: string[] = [];
  if (filter.taskId !== undefined) where.push(`task_id = ${param(filter.taskId)}`);
  if (filter.types !== undefined) where.push(anyOf('type', filter.types));
  if (filter.taskType !== undefined) where.push(`task_type = ${param(filter.taskType)}`);
  if (filter.listId !== undefined) where.push(`list_id = ${param(filter.listId)}`);
  if (filter.projectId !== undefined) where.push(`project_id = ${param(filter.projectId)}`);
  return where;
}

/** A step's `data` column: JSON text, or SQL NULL for a step without data. */
export const stepData = (s: Step): string | null => (s.data === undefined ? null : JSON.stringify(s.data));

// ---- what a unit announces ------------------------------------------------------------------

export const changeOf = (t: Task): TaskChange => ({
  orgId: t.orgId,
  taskId: t.id,
  type: t.type,
  version: t.version,
  status: t.status,
  runAt: t.runAt,
});

/** A deleted task is announced like a change, so that requests waiting on it wake and find it gone. */
export const deletedChange = (r: DeletedRow): TaskChange => ({
  orgId: r.org_id,
  taskId: r.id,
  type: r.type,
  version: r.version + 1,
  status: r.status,
  runAt: r.run_at,
});
