/**
 * Task use cases for clients (SPEC §4). Every change is one `store.write` unit: read the task
 * with `getTaskForUpdate` (the row is locked for the unit), compute the next record through the
 * domain's transition table, write it with its event, and settle dependents in the same unit (the
 * last two are the TaskWriter's). Creating tasks is the TaskCreator's; several changes in one unit,
 * the TaskUpdater's. Content rules (task-rules.ts) are checked before a unit starts.
 */
import type { BatchCreate, TaskAction, TaskCreate, TaskPatch } from '@tasklane/sdk/schemas';
import { TasklaneError } from '../domain/errors.js';
import { isTerminal } from '../domain/status.js';
import type { Step, Task } from '../domain/task.js';
import type { StoreWriter, TaskDocument, TaskFilter, TaskStore } from '../storage/task-store.js';
import type { ChangeHub } from './change-hub.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { UUID_PATTERN } from './ids.js';
import { actOn, patchTask, type ActionBody } from './task-changes.js';
import { TaskCreator, type Caller } from './task-creator.js';
import { deletedEvent } from './task-events.js';
import { checkPatch, checkReason, checkSteps } from './task-rules.js';
import { findTask, findTaskForUpdate, taskKey, taskNotFound } from './task-lookup.js';
import { withSteps, type TaskView } from './task-view.js';
import { TaskUpdater, type ChangePlan, type UpdateOptions } from './task-update.js';
import type { TaskWriter } from './task-writer.js';

export interface TaskServiceOptions {
  store: TaskStore;
  /** Applies and writes every change; shared with the worker side and the sweeper. */
  writer: TaskWriter;
  /** What long-polls wait on. */
  changes: ChangeHub;
  /** How long an Idempotency-Key is honoured (SPEC: at least 24 h). */
  idempotencyTtlMs?: number;
}

const DAY_MS = 24 * 3600 * 1000;

export class TaskService {
  private readonly store: TaskStore;
  private readonly writer: TaskWriter;
  private readonly changes: ChangeHub;
  private readonly creator: TaskCreator;
  private readonly updater: TaskUpdater;

  constructor(opts: TaskServiceOptions) {
    this.store = opts.store;
    this.writer = opts.writer;
    this.changes = opts.changes;
    this.creator = new TaskCreator(opts.store, opts.writer, opts.idempotencyTtlMs ?? DAY_MS);
    this.updater = new TaskUpdater(opts.store, opts.writer);
  }

  // ---- create ----------------------------------------------------------------------------

  /**
   * Create one task. `created` is false when an Idempotency-Key replayed an earlier create. `then`
   * plans changes to the new task made in the same unit (a task created blocked: created, then
   * blocked), so the request is one unit; it may not claim.
   */
  create(
    caller: Caller,
    input: TaskCreate,
    idempotencyKey?: string,
    then?: ChangePlan,
  ): Promise<{ view: TaskView; created: boolean }> {
    const after =
      then === undefined
        ? undefined
        : async (tx: StoreWriter, tasks: Task[]) =>
            Promise.all(tasks.map(async (t) => this.updater.apply(tx, t, then)));
    return this.creator.create(caller, input, idempotencyKey, after);
  }

  /** Create up to 1,000 tasks in one unit: all or none. */
  createBatch(
    caller: Caller,
    body: BatchCreate,
    idempotencyKey?: string,
  ): Promise<{ views: TaskView[]; created: boolean }> {
    return this.creator.createBatch(caller, body, idempotencyKey);
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
      const items = await withSteps(tx, orgId, page.items);
      return { items, hasMore: page.hasMore, nextCursor: page.lastId === null ? null : encodeCursor(page.lastId) };
    });
  }

  async getSteps(orgId: string, ref: string): Promise<Step[]> {
    return (await this.get(orgId, ref)).steps;
  }

  // ---- change ----------------------------------------------------------------------------

  /** `ifMatch`: the versions the client accepts (If-Match), null for any. */
  async patch(orgId: string, ref: string, patch: TaskPatch, ifMatch: readonly number[] | null): Promise<TaskView> {
    checkPatch(patch);
    return this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      if (ifMatch !== null && !ifMatch.includes(task.version)) {
        throw new TasklaneError(
          'PRECONDITION_FAILED',
          `The task is at version ${task.version}; If-Match named another.`,
        );
      }
      const next = await patchTask(tx, this.writer, task, patch);
      return { task: next, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /** start, cancel, retry, block, unblock, approve, reject, archive, unarchive. */
  async action(orgId: string, ref: string, action: TaskAction, body: ActionBody): Promise<TaskView> {
    checkReason(body.reason);
    return this.store.write(async (tx) => {
      const task = await findTaskForUpdate(tx, orgId, ref);
      const next = await actOn(tx, this.writer, task, action, body);
      return { task: next, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /**
   * Several changes to one task (patches, actions, a claim, worker reports) as one unit of work, all
   * or nothing, planned from the task as the unit locked it: see TaskUpdater.
   */
  update(orgId: string, ref: string, plan: ChangePlan, opts: UpdateOptions = {}): Promise<TaskView> {
    return this.updater.update(orgId, ref, plan, opts);
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
    checkSteps(steps);
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
      await this.writer.addSteps(tx, task, steps);
      return tx.getSteps(orgId, task.id);
    });
  }
}
