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
 *   (on every node sharing the store), and the events it wrote to `onCommit` listeners (on this
 *   store instance only).
 */
import type { EventType } from '@tasklane/sdk/vocabulary';
import type { ApiKey } from '../domain/api-key.js';
import type { Org, OrgDefaults } from '../domain/org.js';
import type { Project } from '../domain/project.js';
import type { TaskStatus } from '../domain/status.js';
import type { Json, RetryPolicy, Step, Task } from '../domain/task.js';
import type { TaskDocument, TaskKey } from './task-document.js';
import type { TaskCallback, WebhookStore } from './webhook-store.js';

export type { TaskDocument, TaskKey };

/** An org as inserted: without `defaults` it has none of its own (NO_ORG_DEFAULTS). */
export type NewOrg = Omit<Org, 'defaults'> & { defaults?: OrgDefaults };

export interface IdempotencyRecord {
  orgId: string;
  key: string;
  /** SHA-256 of the canonical request body. */
  requestHash: string;
  /** The tasks the first request created, in order (one for a single create). */
  taskIds: string[];
  createdAt: number;
}

/** The kinds of event (SPEC §10), listed once in the SDK's vocabulary. */
export type { EventType };

/**
 * One change of one task (SPEC §10), written in the unit that makes the change: the one source of
 * streams, webhooks, metrics and the CLI. It carries the task's type, list and project as they were
 * at the change, so that a stream filters without reading tasks, a deleted task's events included.
 */
export interface NewEvent {
  orgId: string;
  taskId: string;
  type: EventType;
  /** The task's type. '' only on events written before the column existed whose task was gone by then. */
  taskType: string;
  listId: string | null;
  projectId: string | null;
  /** What a client needs without another GET; its keys per type are in service/task-events.ts. */
  data: Json;
  /** Durations for this node's metrics (onCommit listeners): never stored, never sent. */
  measures?: EventMeasures;
}

/** Store-clock milliseconds a status change ended: the wait before a claim, or the attempt it ended. */
export interface EventMeasures {
  /** On a claim: since the task became claimable (its runAt, else queuedAt). */
  waitedMs?: number;
  /** On leaving in_progress: since the attempt's claim (claimedAt). */
  ranMs?: number;
}

export interface StoredEvent extends NewEvent {
  /**
   * Increasing per org, and visible in increasing order: once a reader has seen id N, no event
   * with a smaller id commits later, so resuming after N misses nothing. Not dense: ids may skip.
   */
  id: number;
  time: number;
}

/** Which events of an org listEvents returns; every field given must match (AND). */
export interface EventFilter {
  taskId?: string;
  /** Any of these event types; an empty list matches none. */
  types?: readonly EventType[];
  taskType?: string;
  listId?: string;
  projectId?: string;
}

/** Where an org's event history starts and ends, for a reader resuming after an id (SSE Last-Event-ID). */
export interface EventBounds {
  /**
   * The highest id the reaper has deleted in the org (0: none). A reader resuming after an id
   * below it may have missed events.
   */
  horizon: number;
  /**
   * The highest id written in the org so far (at least `horizon`; 0 when none ever was). A reader
   * resuming after an id above it holds an id that never existed. Read in the same unit as
   * listEvents, it is consistent with it: no event up to it is still to come.
   */
  lastId: number;
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
  /** false (default): archived tasks are hidden; true: they are listed too. */
  archived?: boolean;
  /**
   * Tasks whose title contains this text (1..200 characters), `%`, `_` and `\` taken literally.
   * Case is ignored for ASCII letters on every adapter; whether other letters match another case
   * is the adapter's (SQLite: never; PostgreSQL: as the database's LC_CTYPE folds them).
   */
  titleContains?: string;
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
  type: string;
  version: number;
  status: TaskStatus;
  /** When a queued task becomes claimable (null: now). */
  runAt: number | null;
}

/** Settings of one task type of an org (SPEC §5 `PUT /v1/types/{type}`). */
export interface TypeConfig {
  orgId: string;
  type: string;
  /** At most this many tasks of the type in progress at once; null: no limit. */
  concurrency: number | null;
  /** At most `count` claims per `perMs` window; null: no limit. */
  rateLimit: { count: number; perMs: number } | null;
  defaults: {
    maxRetries?: number;
    retryPolicy?: Partial<RetryPolicy>;
    leaseMs?: number;
    timeoutMs?: number;
    priority?: number;
    ttlSeconds?: number;
  };
  updatedAt: number;
}

/** A task the sweeper must act on: its lease expired or its attempt ran out of time. */
export interface OverdueTask {
  orgId: string;
  taskId: string;
  reason: 'lease_expired' | 'timeout';
}

export interface StatusCount {
  status: TaskStatus;
  type: string;
  count: number;
}

/** One (status, type) group of every org's tasks, for the metrics (`taskCensus`). */
export interface CensusRow {
  status: TaskStatus;
  type: string;
  count: number;
  /** Queued only: since when the longest-waiting claimable one has been claimable (runAt, else queuedAt). */
  oldestClaimableAt: number | null;
}

/** Finished tasks of one type in one minute (`completionsByMinute`). */
export interface MinuteCompletions {
  /** Start of the minute, epoch ms (a multiple of 60,000). */
  minute: number;
  completed: number;
  failed: number;
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
  /** Of these tasks, the ones that some task's `dependsOn` names. */
  dependedOn(orgId: string, taskIds: readonly string[]): Promise<Set<string>>;

  /** The whole step history, oldest first. */
  getSteps(orgId: string, taskId: string): Promise<Step[]>;
  /** Steps of many tasks at once (for lists), oldest first per task. */
  getStepsOf(orgId: string, taskIds: readonly string[]): Promise<Map<string, Step[]>>;

  getProject(orgId: string, projectId: string): Promise<Project | null>;
  getProjectByKey(orgId: string, key: string): Promise<Project | null>;
  listProjects(orgId: string): Promise<Project[]>;

  /** The record if it exists and was made at or after `notBefore`. */
  getIdempotency(orgId: string, key: string, notBefore: number): Promise<IdempotencyRecord | null>;

  /**
   * Events of one org with id > `afterId` that match `filter`, oldest first (id order), at most
   * `limit`. In a write unit, the unit's own events are listed too.
   */
  listEvents(orgId: string, afterId: number, limit: number, filter?: EventFilter): Promise<StoredEvent[]>;
  /** The org's event horizon and last id (EventBounds). */
  eventBounds(orgId: string): Promise<EventBounds>;

  getTypeConfig(orgId: string, type: string): Promise<TypeConfig | null>;
  listTypeConfigs(orgId: string): Promise<TypeConfig[]>;

  /** Tasks of one list (at most `limit`), oldest first. */
  getListTasks(orgId: string, listId: string, limit: number): Promise<Task[]>;
  /** Task counts by status and type (archived included), of one org or one of its lists. */
  countTasks(orgId: string, listId?: string): Promise<StatusCount[]>;
  /**
   * How many tasks of each of these types are queued, due now or later (a queue's depth); every type
   * given has an entry, 0 when none is queued. Served by the claim index, whatever the org's size.
   */
  countQueued(orgId: string, types: readonly string[]): Promise<Map<string, number>>;
  /**
   * Since when the longest-waiting claimable task of the org (of one type, when `type` is given)
   * has been claimable (its runAt, else queuedAt), or null.
   */
  oldestQueuedAt(orgId: string, type?: string): Promise<number | null>;
  /**
   * The tasks of one type (archived included) now `completed` or `failed` whose completedAt is at
   * or after `since`, counted by the minute of their completedAt: oldest minute first, a minute
   * without any left out.
   */
  completionsByMinute(orgId: string, type: string, since: number): Promise<MinuteCompletions[]>;
  /** Claims of the org since `since` (all types when `type` is not given). */
  countClaims(orgId: string, since: number, type?: string): Promise<number>;
  /** The time of the earliest claim of this type at or after `since`, or null. */
  firstClaimSince(orgId: string, type: string, since: number): Promise<number | null>;
  /** The earliest future `runAt` among queued tasks of these types (null: none waits). */
  nextRunAt(orgId: string, types: readonly string[]): Promise<number | null>;

  /**
   * Across orgs, for the metrics: task counts by status and type (archived included), with the
   * oldest claimable time of each queued group. One grouped statement over every task row: the
   * caller reads it seldom (once per 5 s per node at most).
   */
  taskCensus(): Promise<CensusRow[]>;

  /** Across orgs: in-progress tasks whose lease expired or whose timeout passed, at most `limit`. */
  overdueTasks(limit: number): Promise<OverdueTask[]>;
}

export interface StoreWriter extends StoreReader {
  /**
   * Run `fn` as a nested unit (a savepoint): if it throws, what it wrote is undone (and not
   * announced) while the enclosing unit goes on; if it returns, its writes join the enclosing unit.
   */
  nested<T>(fn: () => Promise<T>): Promise<T>;

  insertOrg(org: NewOrg): Promise<void>;
  /**
   * Like getOrg, and serializes the units that call it for the same org: no other unit passes this
   * call for that org until this one ends, and what this unit reads after it (the org's keys) is
   * what had committed by then. Org-wide rules that count rows before changing one (the last admin
   * key of an org) hold under it.
   */
  lockOrg(orgId: string): Promise<Org | null>;
  /** Writes the org's name and defaults; false when there is no such org. */
  updateOrg(org: Org): Promise<boolean>;
  insertKey(key: ApiKey): Promise<void>;
  /** Sets `revokedAt`; false when the org has no such key (or it was revoked already). */
  revokeKey(orgId: string, keyId: string, at: number): Promise<boolean>;

  /** Like getTask, and no other unit of work may change the row until this one ends. */
  getTaskForUpdate(orgId: string, taskId: string): Promise<Task | null>;
  insertTasks(tasks: readonly Task[]): Promise<void>;
  /**
   * Write `task` if the stored row still has `task.version - 1`. False (and nothing written) when
   * another unit changed it first. `previous`, the record as this unit read it, lets an adapter
   * write only the fields that differ (and so touch only the indexes that must change).
   */
  updateTask(task: Task, previous?: Task): Promise<boolean>;
  /**
   * Like getTaskForUpdate for many tasks at once: those that exist, in no particular order.
   * Adapters lock them in one fixed order (by id), so units locking overlapping sets cannot deadlock.
   */
  getTasksForUpdate(orgId: string, taskIds: readonly string[]): Promise<Task[]>;
  /**
   * Many updates as one set (at most one per task): each `task` is written if its stored row is
   * still at `previous.version`, `previous` being the record as this unit read it; only the fields
   * that differ are written. Returns how many were written; the others changed nothing.
   */
  updateTasks(changes: ReadonlyArray<{ task: Task; previous: Task }>): Promise<number>;
  /** Deletes the task with its steps and dependency edges; events stay (with task.deleted). */
  deleteTask(orgId: string, taskId: string): Promise<boolean>;

  appendSteps(orgId: string, taskId: string, steps: readonly Step[]): Promise<void>;
  appendEvents(events: readonly NewEvent[]): Promise<void>;
  /** Store tasks' callbacks (webhook-store.ts), before their events: those events find them. */
  putTaskCallbacks(callbacks: readonly TaskCallback[]): Promise<void>;

  insertProject(project: Project): Promise<void>;
  /** Reserve the next identifier number of a project: returns it and moves the counter on. */
  takeProjectNumbers(orgId: string, projectId: string, count: number): Promise<number>;

  putIdempotency(record: IdempotencyRecord): Promise<void>;

  putTypeConfig(config: TypeConfig): Promise<void>;
  /**
   * Like getTypeConfig, and serializes claims of this type: no other unit may pass this call for
   * the same (org, type) until this one ends. Concurrency and rate limits are counted under it.
   */
  lockType(orgId: string, type: string): Promise<TypeConfig | null>;
  /** Tasks of this type in progress right now. */
  countInProgress(orgId: string, type: string): Promise<number>;
  /**
   * Up to `limit` claimable tasks of these types (queued, `runAt` null or ≤ now), and at most
   * `typeLimits.get(type)` of each type the map names (a type it does not name: `limit`).
   *
   * Claim order is decided here and nowhere else: the rows come back in claim order across all
   * the given types, priority descending, then coalesce(runAt, queuedAt), then id, and a caller
   * takes them as they come, never sorting again. Each adapter sorts in SQL (CLAIM_ORDER in
   * task-columns.ts, the order of its tasks_claimable index), types merged in the same statement.
   * One call with per-type limits, instead of a call per limited type merged by the caller, keeps
   * it that way for claims held back by a type's concurrency or rate limit too.
   *
   * Rows come back locked for this unit; rows another unit holds are skipped, not waited for.
   */
  claimable(
    orgId: string,
    types: readonly string[],
    limit: number,
    typeLimits?: ReadonlyMap<string, number>,
  ): Promise<Task[]>;
  /**
   * The claim log that rate limits and claims per minute are counted from: `count` tasks of `type`
   * claimed at this unit's time, one row per type and unit (not one per task).
   */
  recordClaims(orgId: string, claims: ReadonlyArray<{ type: string; count: number }>): Promise<void>;

  /**
   * Across orgs, for the reaper: deletes at most `limit` tasks whose `expiresAt` passed (with their
   * steps and edges), events older than `eventsBefore`, idempotency records older than
   * `idempotencyBefore`, and claim log rows older than `claimsBefore`. Returns how many tasks went.
   * In the same unit it raises each org's event horizon (EventBounds) to the highest event id it
   * deleted there; a horizon is never lowered.
   */
  reap(
    limit: number,
    cutoffs: { eventsBefore: number; idempotencyBefore: number; claimsBefore: number },
  ): Promise<number>;
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
  /** Webhook endpoints and the delivery outbox (webhook-store.ts). */
  readonly webhooks: WebhookStore;
  /** Apply pending migrations under a lock. Refuses a database newer than the code. */
  migrate(): Promise<void>;
  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T>;
  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T>;
  /**
   * The task's public document (task-document.ts) with its steps, or null when the org has no such
   * task. One statement outside any unit of work: it sees one committed snapshot by itself, so the
   * hottest read of the API costs no BEGIN and COMMIT (on PostgreSQL, one round trip instead of three).
   */
  getTaskDocument(orgId: string, key: TaskKey): Promise<TaskDocument | null>;
  /**
   * The API key with this hash, in any org, or null: what authenticates every request. It sees
   * what has committed, nothing still open. On PostgreSQL, where no node may cache keys (a
   * revocation must hold at once on every node), it is one statement outside any unit of work, like
   * getTaskDocument: one round trip per request instead of three.
   */
  findKeyByHash(hash: string): Promise<ApiKey | null>;
  /**
   * Called after each commit with every task the unit inserted or updated, whichever node (store
   * instance sharing the database) committed it. For waking waiters; changes may arrive late.
   */
  subscribe(listener: (change: TaskChange) => void): Unsubscribe;
  /**
   * Called once after each `write` unit this store instance committed that wrote events, with
   * exactly those events in the order appended (a nested unit that was undone contributes none; a
   * unit rolled back calls nothing). Never for another node's units: for local counters (metrics).
   * The events carry no id or time; read them with listEvents for those. A listener that throws
   * is ignored: the unit has committed.
   */
  onCommit(listener: (events: readonly NewEvent[]) => void): Unsubscribe;
  /** Resolves when storage answers; rejects with STORAGE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
