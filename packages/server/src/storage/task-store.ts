/**
 * The storage contract. Every adapter (sqlite/, postgres/) implements exactly this, and the
 * conformance suite in test/conformance/ tests exactly this. It intentionally names no driver,
 * connection or transaction type: a unit of work is a callback that receives a `StoreWriter`.
 *
 * Rules every adapter keeps:
 * - `write(fn)` runs `fn` in one serializable unit: either everything it wrote commits, or nothing
 *   does (fn threw). Two `write` units never see each other's uncommitted changes, and rows a unit
 *   read with `getTaskForUpdate` cannot be changed by another unit until it ends.
 * - `read(fn)` sees one committed snapshot.
 * - Every method is scoped by `orgId`; nothing crosses orgs except the few methods that say so
 *   (the sweeper's and the key lookup by hash).
 * - Times are epoch milliseconds from the store's clock (`tx.now`), one clock for every node.
 * - After a `write` commits, every task it inserted or updated is announced to `subscribe` listeners
 *   (on every node sharing the store).
 */
import type { TaskStatus } from '../domain/status.js';
import type { Json, Step, Task } from '../domain/task.js';

export interface Org {
  id: string;
  name: string;
  createdAt: number;
}

export const SCOPES = ['tasks:read', 'tasks:write', 'tasks:work', 'admin', 'root'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  orgId: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface Project {
  id: string;
  orgId: string;
  key: string;
  name: string;
  /** The number the next task of this project gets (`OPS-<n>`); never reused. */
  nextNumber: number;
  createdAt: number;
}

export interface IdempotencyRecord {
  orgId: string;
  key: string;
  /** SHA-256 of the canonical request body. */
  requestHash: string;
  /** The tasks the first request created, in order (one for a single create). */
  taskIds: string[];
  createdAt: number;
}

export type EventType =
  | 'task.created'
  | 'task.status_changed'
  | 'task.progress'
  | 'task.step'
  | 'task.updated'
  | 'task.deleted';

export interface NewEvent {
  orgId: string;
  taskId: string;
  type: EventType;
  data: Json;
}

export interface StoredEvent extends NewEvent {
  /** Monotonic per org. */
  id: number;
  time: number;
}

export interface TaskFilter {
  status?: TaskStatus[];
  type?: string;
  listId?: string;
  projectId?: string;
  assignee?: string;
  label?: string;
  createdAfter?: number;
  createdBefore?: number;
  /** false (default): archived tasks are hidden; true: only archived tasks. */
  archived?: boolean;
}

export interface TaskPage {
  items: Task[];
  /** The id of the last item when more follow; pass it back as `afterId`. */
  lastId: string | null;
  hasMore: boolean;
}

/** A change committed to a task, as announced to subscribers. */
export interface TaskChange {
  orgId: string;
  taskId: string;
  version: number;
  status: TaskStatus;
}

export type Unsubscribe = () => void;

export interface StoreReader {
  /** The store's clock at the start of this unit of work. */
  readonly now: number;

  getOrg(orgId: string): Promise<Org | null>;
  countOrgs(): Promise<number>;

  /** Across orgs: the key whose secret hashes to `hash`, revoked or not. */
  findKeyByHash(hash: string): Promise<ApiKey | null>;
  listKeys(orgId: string): Promise<ApiKey[]>;

  getTask(orgId: string, taskId: string): Promise<Task | null>;
  getTaskByIdentifier(orgId: string, identifier: string): Promise<Task | null>;
  /** The tasks with these ids that exist in the org, in no particular order. */
  getTasks(orgId: string, taskIds: readonly string[]): Promise<Task[]>;
  /** Newest first (id descending: ids are UUIDv7), `limit` at most, after `afterId` when given. */
  listTasks(orgId: string, filter: TaskFilter, limit: number, afterId: string | null): Promise<TaskPage>;
  /** Tasks whose `dependsOn` names `taskId`. */
  getDependents(orgId: string, taskId: string): Promise<Task[]>;

  /** The whole step history, oldest first. */
  getSteps(orgId: string, taskId: string): Promise<Step[]>;
  /** Steps of many tasks at once (for lists), oldest first per task. */
  getStepsOf(orgId: string, taskIds: readonly string[]): Promise<Map<string, Step[]>>;

  getProject(orgId: string, projectId: string): Promise<Project | null>;
  getProjectByKey(orgId: string, key: string): Promise<Project | null>;
  listProjects(orgId: string): Promise<Project[]>;

  /** The record if it exists and was made at or after `notBefore`. */
  getIdempotency(orgId: string, key: string, notBefore: number): Promise<IdempotencyRecord | null>;

  /** Events of one org with id > `afterId`, oldest first. */
  listEvents(orgId: string, afterId: number, limit: number): Promise<StoredEvent[]>;
}

export interface StoreWriter extends StoreReader {
  insertOrg(org: Org): Promise<void>;
  insertKey(key: ApiKey): Promise<void>;
  /** Sets `revokedAt`; false when the org has no such key (or it was revoked already). */
  revokeKey(orgId: string, keyId: string, at: number): Promise<boolean>;

  /** Like getTask, and no other unit of work may change the row until this one ends. */
  getTaskForUpdate(orgId: string, taskId: string): Promise<Task | null>;
  insertTasks(tasks: readonly Task[]): Promise<void>;
  /**
   * Write `task` if the stored row still has `task.version - 1`. False (and nothing written) when
   * another unit changed it first.
   */
  updateTask(task: Task): Promise<boolean>;
  /** Deletes the task with its steps and dependency edges; events stay (with task.deleted). */
  deleteTask(orgId: string, taskId: string): Promise<boolean>;

  appendSteps(orgId: string, taskId: string, steps: readonly Step[]): Promise<void>;
  appendEvents(events: readonly NewEvent[]): Promise<void>;

  insertProject(project: Project): Promise<void>;
  /** Reserve the next identifier number of a project: returns it and moves the counter on. */
  takeProjectNumbers(orgId: string, projectId: string, count: number): Promise<number>;

  putIdempotency(record: IdempotencyRecord): Promise<void>;
}

/** Backend differences, declared as data instead of `if (postgres)` in the service. */
export interface StoreCapabilities {
  /** Human name of the backend, for logs and /readyz. */
  readonly backend: string;
  /** Whether several server processes may share this store. */
  readonly multiNode: boolean;
}

export interface TaskStore {
  readonly capabilities: StoreCapabilities;
  /** Apply pending migrations under a lock. Refuses a database newer than the code. */
  migrate(): Promise<void>;
  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T>;
  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T>;
  /** Called after each commit with every task the unit inserted or updated. */
  subscribe(listener: (change: TaskChange) => void): Unsubscribe;
  /** Resolves when storage answers; rejects with STORAGE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
