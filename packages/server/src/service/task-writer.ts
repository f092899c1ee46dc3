/**
 * Applies transitions and writes them inside a caller's unit of work: the one way a task changes,
 * shared by the client use cases (TaskService), the worker side (WorkerService) and the sweeper
 * (Maintenance). Every record it writes goes out with its event, and a task that just became
 * terminal has its blocked dependents settled in the same unit.
 *
 * It opens no unit of its own: the caller holds the rows locked (getTaskForUpdate,
 * getTasksForUpdate or claimable) and decides what else the unit does.
 */
import { TasklaneError } from '../domain/errors.js';
import { isTerminal } from '../domain/status.js';
import type { Json, Step, Task } from '../domain/task.js';
import { applyTransition, viewDependencies, type DependencyView, type TransitionEvent } from '../domain/transitions.js';
import type { NewEvent, StoreReader, StoreWriter } from '../storage/task-store.js';
import { changeEvent, stepEvents } from './task-events.js';

export interface TaskWriterOptions {
  /** Uniform in [0, 1) (retry jitter); tests pass a seeded one. */
  random?: () => number;
}

export class TaskWriter {
  private readonly random: () => number;

  constructor(opts: TaskWriterOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

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

  /** Write one change that is not a transition (a patch, archiving), with its event. */
  save(tx: StoreWriter, before: Task, after: Task, cause: string): Promise<void> {
    return this.saveMany(tx, before.orgId, [{ before, after }], [changeEvent(before, after, cause)]);
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

  /** Append steps to a task inside the caller's unit: a change like any other (version), an event per step. */
  async addSteps(
    tx: StoreWriter,
    task: Task,
    steps: ReadonlyArray<{ message: string; data?: unknown }>,
  ): Promise<Task> {
    const rows = this.stepRows(tx, steps);
    await tx.appendSteps(task.orgId, task.id, rows);
    const next = { ...task, version: task.version + 1, updatedAt: tx.now };
    if (!(await tx.updateTask(next, task))) throw new TasklaneError('CONFLICT', 'The task changed; try again.');
    await tx.appendEvents(stepEvents(next, rows));
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

  /** What the task's dependencies say now, for the transitions that look at them. */
  async dependencyView(tx: StoreReader, task: Task): Promise<DependencyView> {
    const deps = await tx.getTasks(task.orgId, task.dependsOn);
    // A dependency deleted since (only terminal ones can be) counts as completed.
    return viewDependencies(task, deps);
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
}
