/**
 * Task use cases for clients (SPEC §4). Every change is one `store.write` unit: read the task
 * with `getTaskForUpdate` (the row is locked for the unit), compute the next record through the
 * domain's transition table, write it with its event, and settle dependents in the same unit.
 */
import type { BatchCreate, TaskAction, TaskCreate, TaskPatch } from '@tasklane/sdk/schemas';
import type { Clock } from '../domain/clock.js';
import { TasklaneError } from '../domain/errors.js';
import { isTerminal, type TaskStatus } from '../domain/status.js';
import type { Json, JsonObject, Step, Task } from '../domain/task.js';
import { applyTransition, viewDependencies, type TransitionEvent } from '../domain/transitions.js';
import type {
  NewEvent,
  StoreReader,
  StoreWriter,
  TaskDocument,
  TaskFilter,
  TaskStore,
  TypeConfig,
} from '../storage/task-store.js';
import { ChangeHub } from './change-hub.js';
import { planBatch, type PlannedItem } from './batch-plan.js';
import { requestHash } from './request-hash.js';
import { UUID_PATTERN, newTaskId } from './ids.js';
import { findTask, findTaskForUpdate, taskKey, taskNotFound } from './task-lookup.js';
import { draftTask } from './task-draft.js';
import { changeEvent, createdEvent, deletedEvent, stepEvent } from './task-events.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** A task with its whole step history: what GET answers. */
export interface TaskView {
  task: Task;
  steps: Step[];
}

export interface Caller {
  orgId: string;
  keyName: string;
}

export interface TaskServiceOptions {
  store: TaskStore;
  clock: Clock;
  random?: () => number;
  /** How long an Idempotency-Key is honoured (SPEC: at least 24 h). */
  idempotencyTtlMs?: number;
}

const DAY_MS = 24 * 3600 * 1000;

export class TaskService {
  private readonly store: TaskStore;
  private readonly random: () => number;
  private readonly idempotencyTtlMs: number;
  readonly changes: ChangeHub;

  constructor(opts: TaskServiceOptions) {
    this.store = opts.store;
    this.random = opts.random ?? Math.random;
    this.idempotencyTtlMs = opts.idempotencyTtlMs ?? DAY_MS;
    this.changes = new ChangeHub(opts.store);
  }

  // ---- create ----------------------------------------------------------------------------

  /** Create one task. `created` is false when an Idempotency-Key replayed an earlier create. */
  async create(
    caller: Caller,
    input: TaskCreate,
    idempotencyKey?: string,
  ): Promise<{ view: TaskView; created: boolean }> {
    const { views, created } = await this.createMany(caller, [input], idempotencyKey, 'single');
    const view = views[0];
    if (view === undefined) throw new Error('create returned no task');
    return { view, created };
  }

  /** Create up to 1,000 tasks in one unit: all or none. */
  createBatch(
    caller: Caller,
    body: BatchCreate,
    idempotencyKey?: string,
  ): Promise<{ views: TaskView[]; created: boolean }> {
    return this.createMany(caller, body.tasks, idempotencyKey, 'batch');
  }

  private async createMany(
    caller: Caller,
    items: BatchCreate['tasks'],
    idempotencyKey: string | undefined,
    kind: 'single' | 'batch',
  ): Promise<{ views: TaskView[]; created: boolean }> {
    // Everything that needs no storage is checked before the unit of work starts.
    const plan = planBatch(items, newTaskId, kind === 'single');
    const hash = idempotencyKey === undefined ? null : requestHash(kind, items);
    return this.store.write(async (tx) => {
      if (idempotencyKey !== undefined && hash !== null) {
        const earlier = await tx.getIdempotency(caller.orgId, idempotencyKey, tx.now - this.idempotencyTtlMs);
        if (earlier !== null) {
          if (earlier.requestHash !== hash) {
            throw new TasklaneError(
              'IDEMPOTENCY_MISMATCH',
              'This Idempotency-Key was used with a different request body.',
            );
          }
          const tasks = await tx.getTasks(caller.orgId, earlier.taskIds);
          if (tasks.length < earlier.taskIds.length) {
            throw new TasklaneError(
              'CONFLICT',
              'This Idempotency-Key created tasks that have since been deleted; use a new key to create them again.',
            );
          }
          const byId = new Map(tasks.map((t) => [t.id, t]));
          const ordered = earlier.taskIds.flatMap((id) => byId.get(id) ?? []);
          return { views: await this.withSteps(tx, caller.orgId, ordered), created: false };
        }
      }
      const tasks = await this.insertPlanned(tx, caller, plan, idempotencyKey ?? null);
      if (idempotencyKey !== undefined && hash !== null) {
        await tx.putIdempotency({
          orgId: caller.orgId,
          key: idempotencyKey,
          requestHash: hash,
          taskIds: tasks.map((t) => t.id),
          createdAt: tx.now,
        });
      }
      return { views: tasks.map((task) => ({ task, steps: [] })), created: true };
    });
  }

  private async insertPlanned(
    tx: StoreWriter,
    caller: Caller,
    plan: PlannedItem[],
    idempotencyKey: string | null,
  ): Promise<Task[]> {
    const orgId = caller.orgId;
    // Dependencies outside the batch (ids or identifiers) must exist in this org: a foreign one is
    // an unknown one.
    const external = await this.resolveExternalDeps(tx, orgId, plan);
    const identifiers = await this.assignIdentifiers(tx, orgId, plan);
    const defaults = new Map<string, TypeConfig['defaults']>();
    for (const type of new Set(plan.map((p) => p.input.type))) {
      defaults.set(type, (await tx.getTypeConfig(orgId, type))?.defaults ?? {});
    }
    const statusById = new Map([...external.values()].map((t) => [t.id, t.status]));
    const created = new Map<string, Task>();
    // Topological order: a task's in-batch dependencies are created (and have a status) before it.
    for (const item of plan) {
      const dependsOn = [...new Set(item.dependsOn.map((d) => external.get(d)?.id ?? d))];
      const draft = draftTask(item.input, {
        id: item.id,
        orgId,
        now: tx.now,
        keyName: caller.keyName,
        project: identifiers.get(item.id) ?? null,
        dependsOn,
        idempotencyKey,
        defaults: defaults.get(item.input.type) ?? {},
      });
      const deps = dependsOn.map((id) => ({
        id,
        status: created.get(id)?.status ?? statusById.get(id) ?? 'queued',
      }));
      const task = applyTransition(
        draft,
        { name: 'create', start: item.input.start ?? true, deps: viewDependencies(draft, deps) },
        { now: tx.now, random: this.random },
      );
      created.set(task.id, task);
    }
    // Back to the order the client gave (ids were drawn in that order, so it is also id order).
    const tasks = [...plan].sort((a, b) => a.index - b.index).map((p) => created.get(p.id) as Task);
    await tx.insertTasks(tasks);
    await tx.appendEvents(tasks.map(createdEvent));
    return tasks;
  }

  /** Existing tasks named in `dependsOn` (by id or identifier), keyed by the reference given. */
  private async resolveExternalDeps(
    tx: StoreWriter,
    orgId: string,
    plan: PlannedItem[],
  ): Promise<Map<string, { id: string; status: TaskStatus }>> {
    const named = new Set<string>();
    for (const p of plan) for (const ref of p.externalDeps) named.add(ref);
    const refs = [...named];
    const ids = refs.filter((r) => UUID_PATTERN.test(r));
    const out = new Map<string, { id: string; status: TaskStatus }>();
    for (const t of await tx.getTasks(orgId, ids)) out.set(t.id, { id: t.id, status: t.status });
    for (const ref of refs.filter((r) => !UUID_PATTERN.test(r))) {
      const t = await tx.getTaskByIdentifier(orgId, ref);
      if (t !== null) out.set(ref, { id: t.id, status: t.status });
    }
    const missing = refs.filter((r) => !out.has(r));
    if (missing.length > 0) {
      throw new TasklaneError('UNKNOWN_DEPENDENCY', `No task ${missing.join(', ')} in this org.`, {
        errors: missing.map((ref) => ({ path: '/dependsOn', message: `unknown task ${ref}` })),
      });
    }
    return out;
  }

  /**
   * Identifiers (`OPS-7`) for the items that name a project (by id or key), numbered in the order
   * the client sent them; the project's counter moves on in the same unit, so none is reused.
   */
  private async assignIdentifiers(
    tx: StoreWriter,
    orgId: string,
    plan: PlannedItem[],
  ): Promise<Map<string, { id: string; identifier: string }>> {
    const out = new Map<string, { id: string; identifier: string }>();
    const inOrder = [...plan].sort((a, b) => a.index - b.index);
    const refs = new Set(inOrder.flatMap((p) => (p.input.projectId === undefined ? [] : [p.input.projectId])));
    for (const ref of refs) {
      const project = UUID_PATTERN.test(ref)
        ? await tx.getProject(orgId, ref.toLowerCase())
        : await tx.getProjectByKey(orgId, ref);
      if (project === null) {
        throw new TasklaneError('VALIDATION_FAILED', `No project '${ref}' in this org.`, {
          errors: [{ path: '/projectId', message: `unknown project ${ref}` }],
        });
      }
      const items = inOrder.filter((p) => p.input.projectId === ref);
      let next = await tx.takeProjectNumbers(orgId, project.id, items.length);
      for (const item of items) out.set(item.id, { id: project.id, identifier: `${project.key}-${next++}` });
    }
    return out;
  }

  // ---- read ------------------------------------------------------------------------------

  /** The task by UUID or project identifier (`OPS-42`); NOT_FOUND for a missing or foreign one. */
  /** The task as its wire JSON, rendered by the store in one statement: the plain GET. */
  async document(orgId: string, ref: string): Promise<TaskDocument> {
    const key = taskKey(ref);
    const doc = key === null ? null : await this.store.getTaskDocument(orgId, key);
    if (doc === null) throw taskNotFound();
    return doc;
  }

  async get(orgId: string, ref: string): Promise<TaskView> {
    return this.store.read(async (tx) => {
      const task = await findTask(tx, orgId, ref);
      return { task, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /**
   * Long-poll (SPEC §4 `?wait=`). With `ifNoneMatch` (the versions the client has), resolve when
   * the task's version is none of them; without, when the task is terminal. `changed` is false
   * when the time passed first.
   */
  async waitFor(
    orgId: string,
    ref: string,
    opts: { ifNoneMatch: readonly number[] | null; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ doc: TaskDocument; changed: boolean }> {
    const known = opts.ifNoneMatch;
    const ready = (d: TaskDocument) => (known === null ? isTerminal(d.status) : !known.includes(d.version));
    const first = await this.document(orgId, ref);
    if (ready(first) || opts.timeoutMs <= 0) return { doc: first, changed: ready(first) };
    const deadline = Date.now() + opts.timeoutMs;
    const waiter = this.changes.watchTask(orgId, first.id, opts.signal);
    try {
      // Read again now that the waiter is armed: a change between the first read and the
      // subscription would otherwise be missed until the timeout.
      let doc = await this.document(orgId, first.id);
      while (!ready(doc)) {
        if (!(await waiter.next(deadline - Date.now()))) return { doc, changed: false };
        doc = await this.document(orgId, first.id);
      }
      return { doc, changed: true };
    } finally {
      waiter.close();
    }
  }

  async list(
    orgId: string,
    filter: TaskFilter,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: TaskView[]; nextCursor: string | null; hasMore: boolean }> {
    const afterId = cursor === undefined ? null : decodeCursor(cursor);
    return this.store.read(async (tx) => {
      // A project may be named by its key (OPS) here too, as at creation.
      if (filter.projectId !== undefined && !UUID_PATTERN.test(filter.projectId)) {
        const project = await tx.getProjectByKey(orgId, filter.projectId);
        if (project === null) return { items: [], nextCursor: null, hasMore: false };
        filter = { ...filter, projectId: project.id };
      }
      const page = await tx.listTasks(orgId, filter, limit, afterId);
      const items = await this.withSteps(tx, orgId, page.items);
      return { items, hasMore: page.hasMore, nextCursor: page.lastId === null ? null : encodeCursor(page.lastId) };
    });
  }

  async getSteps(orgId: string, ref: string): Promise<Step[]> {
    return (await this.get(orgId, ref)).steps;
  }

  // ---- change ----------------------------------------------------------------------------

  /** `ifMatch`: the versions the client accepts (If-Match), null for any. */
  async patch(orgId: string, ref: string, patch: TaskPatch, ifMatch: readonly number[] | null): Promise<TaskView> {
    return this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      if (ifMatch !== null && !ifMatch.includes(task.version)) {
        throw new TasklaneError(
          'PRECONDITION_FAILED',
          `The task is at version ${task.version}; If-Match named another.`,
        );
      }
      const metadata = patch.metadata === undefined ? task.metadata : mergeMetadata(task.metadata, patch.metadata);
      if (Object.keys(metadata).length > 64) {
        throw new TasklaneError('VALIDATION_FAILED', 'metadata would have more than 64 keys.', {
          errors: [{ path: '/metadata', message: 'must have at most 64 keys after the merge' }],
        });
      }
      const next: Task = {
        ...task,
        title: patch.title ?? task.title,
        description: patch.description === undefined ? task.description : patch.description,
        priority: patch.priority ?? task.priority,
        metadata,
        labels: patch.labels ?? task.labels,
        assignee: patch.assignee === undefined ? task.assignee : patch.assignee,
        requiresReview: patch.requiresReview ?? task.requiresReview,
        version: task.version + 1,
        updatedAt: tx.now,
      };
      await this.save(tx, task, next, 'patch');
      return { task: next, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /** start, cancel, retry, block, unblock, approve, reject, archive, unarchive. */
  async action(
    orgId: string,
    ref: string,
    action: TaskAction,
    body: { reason?: string; requeue?: boolean },
  ): Promise<TaskView> {
    return this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      let next: Task;
      if (action === 'archive' || action === 'unarchive') {
        const archive = action === 'archive';
        if ((task.archivedAt !== null) === archive) {
          throw new TasklaneError('INVALID_TRANSITION', `The task is ${archive ? 'already' : 'not'} archived.`);
        }
        next = { ...task, archivedAt: archive ? tx.now : null, version: task.version + 1, updatedAt: tx.now };
        await this.save(tx, task, next, action);
      } else {
        next = await this.transition(tx, task, await this.eventFor(tx, task, action, body));
      }
      if (body.reason !== undefined && action !== 'block') {
        await tx.appendSteps(orgId, task.id, [{ time: tx.now, message: `${action}: ${body.reason}` }]);
      }
      return { task: next, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  private async eventFor(
    tx: StoreWriter,
    task: Task,
    action: Exclude<TaskAction, 'archive' | 'unarchive'>,
    body: { reason?: string; requeue?: boolean },
  ): Promise<TransitionEvent> {
    switch (action) {
      case 'start':
        return { name: 'start', deps: await this.dependencyView(tx, task) };
      case 'unblock':
        return { name: 'unblock', deps: await this.dependencyView(tx, task) };
      case 'cancel':
        return { name: 'cancel', reason: body.reason };
      case 'retry':
        return { name: 'retry', deps: await this.dependencyView(tx, task) };
      case 'block':
        return { name: 'block', reason: body.reason };
      case 'approve':
        return { name: 'approve' };
      case 'reject':
        return { name: 'reject', requeue: body.requeue, reason: body.reason };
      default: {
        const unknown: never = action;
        throw new Error(`unknown action ${String(unknown)}`);
      }
    }
  }

  /** Terminal tasks only, and none that an active task still depends on. */
  async delete(orgId: string, ref: string): Promise<void> {
    await this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      if (!isTerminal(task.status)) {
        throw new TasklaneError(
          'INVALID_TRANSITION',
          `Only a terminal task can be deleted; this one is ${task.status}.`,
        );
      }
      const waiting = (await tx.getDependents(orgId, task.id)).filter((d) => !isTerminal(d.status));
      if (waiting.length > 0) {
        throw new TasklaneError(
          'HAS_DEPENDENTS',
          `Active tasks depend on this task: ${waiting.map((d) => d.id).join(', ')}.`,
        );
      }
      await tx.deleteTask(orgId, task.id);
      await tx.appendEvents([deletedEvent({ ...task, version: task.version + 1 })]);
    });
  }

  /**
   * Append steps. A task a worker holds takes steps only with its lease id (fencing); a task no
   * worker holds takes them from any caller with tasks:write.
   */
  async appendSteps(
    orgId: string,
    ref: string,
    steps: Array<{ message: string; data?: unknown }>,
    leaseId?: string,
  ): Promise<Step[]> {
    return this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      if (task.lease !== null && task.lease.id !== leaseId) {
        throw new TasklaneError('LEASE_LOST', 'A worker holds this task: append steps with its current lease id.');
      }
      if (task.lease === null && leaseId !== undefined) {
        throw new TasklaneError(
          task.status === 'canceled' ? 'TASK_CANCELED' : 'LEASE_LOST',
          'No worker holds this task under that lease.',
        );
      }
      await this.addSteps(tx, task, steps);
      return tx.getSteps(orgId, task.id);
    });
  }

  // ---- shared machinery --------------------------------------------------------------------

  /**
   * Apply a transition inside the caller's unit: the new record and its event are written
   * together, and when the task just reached a terminal status its blocked dependents are
   * settled (queued, shrunk or canceled) in the same unit, recursively down the graph.
   */
  async transition(tx: StoreWriter, task: Task, event: TransitionEvent): Promise<Task> {
    const next = applyTransition(task, event, { now: tx.now, random: this.random });
    await this.saveMany(tx, task.orgId, [{ before: task, after: next }], [changeEvent(task, next, event.name)]);
    return next;
  }

  /** Apply a transition in memory only: what `transition` would write, for callers that write many at once. */
  next(tx: StoreReader, task: Task, event: TransitionEvent): Task {
    return applyTransition(task, event, { now: tx.now, random: this.random });
  }

  /**
   * Write changes computed in memory as one set: every record (each only if its row is still at the
   * version this unit read, or the whole unit fails with CONFLICT), then the events in the order
   * given, then the dependents of the tasks that just became terminal, settled (queued, shrunk or
   * canceled) in the same unit, recursively down the graph. The rows must be locked by this unit
   * (getTaskForUpdate, getTasksForUpdate or claimable), so the version check cannot fail unless an
   * adapter breaks the contract: it is a guard, not the concurrency mechanism. At most one change
   * per task.
   */
  async saveMany(
    tx: StoreWriter,
    orgId: string,
    changes: ReadonlyArray<{ before: Task; after: Task }>,
    events: readonly NewEvent[],
  ): Promise<void> {
    if (changes.length === 0) return;
    const written = await tx.updateTasks(changes.map((c) => ({ task: c.after, previous: c.before })));
    if (written !== changes.length) throw new TasklaneError('CONFLICT', 'The task changed; try again.');
    await tx.appendEvents(events);
    const settled = changes.filter((c) => isTerminal(c.after.status) && !isTerminal(c.before.status));
    if (settled.length === 0) return;
    // One query tells which of them anything depends on: usually none.
    const dependedOn = await tx.dependedOn(
      orgId,
      settled.map((c) => c.after.id),
    );
    for (const { after } of settled) if (dependedOn.has(after.id)) await this.settleDependents(tx, after);
  }

  /** Append steps to a task inside the caller's unit: a change like any other (version, event). */
  async addSteps(
    tx: StoreWriter,
    task: Task,
    steps: ReadonlyArray<{ message: string; data?: unknown }>,
  ): Promise<Task> {
    const rows = this.stepRows(tx, steps);
    await tx.appendSteps(task.orgId, task.id, rows);
    const next = { ...task, version: task.version + 1, updatedAt: tx.now };
    if (!(await tx.updateTask(next, task))) throw new TasklaneError('CONFLICT', 'The task changed; try again.');
    await tx.appendEvents([stepEvent(next, rows.length)]);
    return next;
  }

  /** Step records stamped with the unit's time. */
  stepRows(tx: StoreReader, steps: ReadonlyArray<{ message: string; data?: unknown }>): Step[] {
    return steps.map((s) =>
      s.data === undefined
        ? { time: tx.now, message: s.message }
        : { time: tx.now, message: s.message, data: s.data as Json },
    );
  }

  private async settleDependents(tx: StoreWriter, settled: Task): Promise<void> {
    for (const { id } of await tx.getDependents(settled.orgId, settled.id)) {
      // Read each dependent afresh and locked: settling an earlier one may already have changed it
      // further down the graph (a diamond: C depends on A and on B, which depends on A).
      const dependent = await tx.getTaskForUpdate(settled.orgId, id);
      if (dependent === null || dependent.status !== 'blocked') continue;
      const deps = await this.dependencyView(tx, dependent);
      const name = settled.status === 'completed' ? 'dependency_completed' : 'dependency_failed';
      await this.transition(tx, dependent, { name, deps });
    }
  }

  private async dependencyView(tx: StoreReader, task: Task) {
    const deps = await tx.getTasks(task.orgId, task.dependsOn);
    // A dependency deleted since (only terminal ones can be) counts as completed.
    return viewDependencies(task, deps);
  }

  private save(tx: StoreWriter, before: Task, after: Task, cause: string): Promise<void> {
    return this.saveMany(tx, before.orgId, [{ before, after }], [changeEvent(before, after, cause)]);
  }

  async withSteps(tx: StoreReader, orgId: string, tasks: Task[]): Promise<TaskView[]> {
    const steps = await tx.getStepsOf(
      orgId,
      tasks.map((t) => t.id),
    );
    return tasks.map((task) => ({ task, steps: steps.get(task.id) ?? [] }));
  }
}

function mergeMetadata(current: JsonObject, patch: Record<string, unknown>): JsonObject {
  const out: JsonObject = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v as Json;
  }
  return out;
}
