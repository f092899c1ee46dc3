/**
 * Several changes to one task as ONE unit of work, all or nothing: what a product's single request
 * asks when Tasklane needs more than one native change for it (QuantCDN's PUT sets a status, fields
 * and progress at once; a task created blocked is a create and a block). If any change is refused
 * (an invalid transition, a lost lease, a rule), the unit rolls back: the task is exactly as before,
 * no version, step or event added.
 *
 * The caller plans the changes from the task as this unit locked it (a `ChangePlan`), so the plan
 * and the changes see the same record, and no other unit can move the task in between.
 */
import type { TaskAction, TaskPatch } from '@tasklane/sdk/schemas';
import type { Task } from '../domain/task.js';
import type { StoreWriter, TaskStore, TypeConfig } from '../storage/task-store.js';
import { claimTask, typeForClaim, type ClaimOneInput } from './claim-limits.js';
import { actOn, patchTask, type ActionBody, type PatchOptions } from './task-changes.js';
import { findTask, findTaskForUpdate } from './task-lookup.js';
import { checkPatch, checkReason, checkReport, checkWorkerId } from './task-rules.js';
import type { TaskView } from './task-view.js';
import type { TaskWriter } from './task-writer.js';
import { applyReport, type ReportBody, type ReportLease } from './worker-reports.js';

/** One native change, as the use cases take them. */
export type TaskChange =
  | ({ kind: 'action'; action: TaskAction } & ActionBody)
  | ({ kind: 'patch'; patch: TaskPatch } & PatchOptions)
  /** Claim the task for a worker (see ClaimOneInput); the update must be made with `mayClaim`. */
  | ({ kind: 'claim' } & ClaimOneInput)
  /** A worker's report (heartbeat, complete, fail, release) with its steps, under `lease`. */
  | { kind: 'report'; report: ReportBody; lease: ReportLease };

/** The changes to make, planned from the task as the unit locked it; throwing refuses the request. */
export type ChangePlan = (task: Readonly<Task>) => readonly TaskChange[];

export interface UpdateOptions {
  /**
   * The plan may claim the task: the type's lock (when its type has limits) is taken before the task's
   * row, the order every claim keeps (claim-limits.ts), so this unit and a claim cannot deadlock.
   */
  mayClaim?: boolean;
}

export class TaskUpdater {
  constructor(
    private readonly store: TaskStore,
    private readonly writer: TaskWriter,
  ) {}

  /** Lock the task, plan, apply every change: one unit. */
  update(orgId: string, ref: string, plan: ChangePlan, opts: UpdateOptions = {}): Promise<TaskView> {
    return this.store.write(async (tx) => {
      const config =
        opts.mayClaim === true ? await typeForClaim(tx, orgId, (await findTask(tx, orgId, ref)).type) : undefined;
      const task = await this.apply(tx, await findTaskForUpdate(tx, orgId, ref), plan, config);
      return { task, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /**
   * Apply a plan inside the caller's unit to a task it holds locked (`config`: the type's settings,
   * read and locked before the row, when the plan may claim).
   */
  async apply(tx: StoreWriter, task: Task, plan: ChangePlan, config?: TypeConfig | null): Promise<Task> {
    let current = task;
    for (const change of plan(task)) current = await this.applyOne(tx, current, change, config);
    return current;
  }

  private async applyOne(
    tx: StoreWriter,
    task: Task,
    change: TaskChange,
    config: TypeConfig | null | undefined,
  ): Promise<Task> {
    switch (change.kind) {
      case 'action': {
        const { kind: _, action, ...body } = change;
        checkReason(body.reason);
        return actOn(tx, this.writer, task, action, body);
      }
      case 'patch':
        checkPatch(change.patch);
        return patchTask(tx, this.writer, task, change.patch, change);
      case 'claim':
        if (config === undefined) throw new Error('a plan that claims needs an update with mayClaim');
        checkWorkerId(change.workerId);
        return claimTask(tx, this.writer, task, config, change);
      case 'report':
        checkReport(change.report);
        if ('holder' in change.lease && change.lease.holder.workerId !== undefined) {
          checkWorkerId(change.lease.holder.workerId);
        }
        return applyReport(tx, this.writer, task, change.report, change.lease);
      default: {
        const unknown: never = change;
        throw new Error(`unknown change ${JSON.stringify(unknown)}`);
      }
    }
  }
}
