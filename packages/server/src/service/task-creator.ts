/**
 * Creating tasks (SPEC §4 `POST /v1/tasks` and `/v1/tasks/batch`): one unit of work per request,
 * all or none. Inside it: an Idempotency-Key replays the tasks it made before, dependencies named
 * by id or identifier are resolved in the org, projects hand out identifiers, type settings give
 * defaults, and each task takes the `create` transition in dependency order.
 */
import type { BatchCreate, TaskCreate } from '@tasklane/sdk/schemas';
import { TasklaneError } from '../domain/errors.js';
import { NO_ORG_DEFAULTS } from '../domain/org.js';
import type { TaskStatus } from '../domain/status.js';
import type { Task } from '../domain/task.js';
import { viewDependencies } from '../domain/transitions.js';
import type { StoreWriter, TaskStore, TypeConfig } from '../storage/task-store.js';
import { planBatch, type PlannedItem } from './batch-plan.js';
import { UUID_PATTERN, newTaskId } from './ids.js';
import { requestHash } from './request-hash.js';
import { draftTask } from './task-draft.js';
import { checkCreate } from './task-rules.js';
import { createdEvent } from './task-events.js';
import { withSteps, type TaskView } from './task-view.js';
import type { TaskWriter } from './task-writer.js';

/** Changes to the tasks just inserted, in the same unit; returns them as changed. */
export type AfterCreate = (tx: StoreWriter, tasks: Task[]) => Promise<Task[]>;

/** Who creates: the org, and the key's name (a task's `createdBy` when the body names none). */
export interface Caller {
  orgId: string;
  keyName: string;
}

export class TaskCreator {
  constructor(
    private readonly store: TaskStore,
    private readonly writer: TaskWriter,
    /** How long an Idempotency-Key is honoured. */
    private readonly idempotencyTtlMs: number,
  ) {}

  /**
   * Create one task. `created` is false when an Idempotency-Key replayed an earlier create. `then`
   * changes the new task in the same unit (not a replay's).
   */
  async create(
    caller: Caller,
    input: TaskCreate,
    idempotencyKey?: string,
    then?: AfterCreate,
  ): Promise<{ view: TaskView; created: boolean }> {
    const { views, created } = await this.createMany(caller, [input], idempotencyKey, 'single', then);
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
    then?: AfterCreate,
  ): Promise<{ views: TaskView[]; created: boolean }> {
    // Everything that needs no storage is checked before the unit of work starts.
    items.forEach((item, i) => checkCreate(item, kind === 'single' ? '' : `/tasks/${i}`));
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
          return { views: await withSteps(tx, caller.orgId, ordered), created: false };
        }
      }
      const inserted = await this.insertPlanned(tx, caller, plan, idempotencyKey ?? null);
      const tasks = then === undefined ? inserted : await then(tx, inserted);
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
    // Defaults: the request's, else its type's, else the org's, else the built-in ones (task-draft.ts).
    const defaults = new Map<string, TypeConfig['defaults']>();
    for (const type of new Set(plan.map((p) => p.input.type))) {
      defaults.set(type, (await tx.getTypeConfig(orgId, type))?.defaults ?? {});
    }
    const orgDefaults = (await tx.getOrg(orgId))?.defaults ?? NO_ORG_DEFAULTS;
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
        orgDefaults,
      });
      const deps = dependsOn.map((id) => ({
        id,
        status: created.get(id)?.status ?? statusById.get(id) ?? 'queued',
      }));
      const task = this.writer.next(tx, draft, {
        name: 'create',
        start: item.input.start ?? true,
        deps: viewDependencies(draft, deps),
      });
      created.set(task.id, task);
    }
    // Back to the order the client gave (ids were drawn in that order, so it is also id order).
    const tasks = [...plan].sort((a, b) => a.index - b.index).map((p) => created.get(p.id) as Task);
    await tx.insertTasks(tasks);
    // Before the events: their statement finds a task's callback and queues its deliveries.
    const callbacks = plan.flatMap((p) =>
      p.input.callbackUrl === undefined
        ? []
        : [{ orgId, taskId: p.id, url: p.input.callbackUrl, events: p.input.callbackEvents ?? null }],
    );
    if (callbacks.length > 0) await tx.putTaskCallbacks(callbacks);
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
}
