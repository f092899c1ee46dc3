/**
 * What a worker reports on a task it holds (heartbeat, complete, fail, release, each with the steps
 * it carries), and how one report changes the record inside a unit of work: fencing first (the
 * lease must be the current one), then the steps and the transition, computed in memory as one
 * change (one row write, the step rows, the events in order). WorkerService and TaskUpdater apply
 * reports through here, so a report means the same whichever use case carries it.
 */
import { TasklaneError } from '../domain/errors.js';
import type { Json, Step, Task } from '../domain/task.js';
import type { TransitionEvent } from '../domain/transitions.js';
import type { NewEvent, StoreWriter } from '../storage/task-store.js';
import { changeEvent, stepEvents } from './task-events.js';
import type { StepContent } from './task-rules.js';
import type { TaskWriter } from './task-writer.js';

export interface Lease {
  leaseId: string;
}

export interface HeartbeatInput extends Lease {
  progress?: number | undefined;
  progressMessage?: string | undefined;
  steps?: StepContent[] | undefined;
  extendMs?: number | undefined;
}

export interface CompleteInput extends Lease {
  result?: unknown;
  review?: boolean | undefined;
}

export interface FailInput extends Lease {
  error: { code?: string | undefined; message: string; details?: unknown };
  retryable?: boolean | undefined;
  retryAfterMs?: number | undefined;
}

export interface ReleaseInput extends Lease {
  delayMs?: number | undefined;
}

/** One report as the native batch carries it: the task, the lease, the action and its fields. */
export type Report =
  | ({ taskId: string; action: 'heartbeat' } & HeartbeatInput)
  | ({ taskId: string; action: 'complete' } & CompleteInput)
  | ({ taskId: string; action: 'fail' } & FailInput)
  | ({ taskId: string; action: 'release' } & ReleaseInput);

/** What a report asks, whatever carries it: the action and its fields, and the steps that go with it. */
export type ReportBody = (
  | ({ action: 'heartbeat' } & Omit<HeartbeatInput, 'leaseId'>)
  | ({ action: 'complete' } & Omit<CompleteInput, 'leaseId'>)
  | ({ action: 'fail' } & Omit<FailInput, 'leaseId'>)
  | ({ action: 'release' } & Omit<ReleaseInput, 'leaseId'>)
) & { steps?: readonly StepContent[] | undefined };

/** Which lease a report is made under. */
export type ReportLease =
  /** The lease id the claim handed out: the native way (fencing by lease id). */
  | { leaseId: string }
  /**
   * For products whose workers report by task id alone: whatever lease the task holds when the unit
   * locks it. `workerId` names the reporting worker. With `anyWorker`, any worker of the org may
   * report on a task in progress and becomes its assignee (Conductor checks no worker id); without,
   * a `workerId` must be the worker holding the task, else LEASE_LOST (QuantCDN's agents).
   */
  | { holder: { workerId?: string | undefined; anyWorker: boolean } };

/** Stands for "no lease" when a task has none: assertLease then answers LEASE_LOST or TASK_CANCELED. */
const NO_LEASE = '';

/** The lease id a report under `lease` claims to hold on `task` (checked by assertLease next). */
export function leaseIdFor(task: Task, lease: ReportLease): string {
  if ('leaseId' in lease) return lease.leaseId;
  const { workerId, anyWorker } = lease.holder;
  if (!anyWorker && workerId !== undefined && task.lease !== null && task.lease.workerId !== workerId) {
    throw new TasklaneError('LEASE_LOST', `Worker '${task.lease.workerId}' holds this task, not '${workerId}'.`);
  }
  return task.lease?.id ?? NO_LEASE;
}

/** The assignee a report under `lease` records: the reporting worker, when any worker may report. */
export function assigneeFor(lease: ReportLease): string | undefined {
  return 'holder' in lease && lease.holder.anyWorker ? lease.holder.workerId : undefined;
}

/**
 * Fencing: a canceled task answers TASK_CANCELED; any other mismatch (expired and re-queued,
 * claimed by another, finished) answers LEASE_LOST.
 */
export function assertLease(task: Task, leaseId: string): void {
  if (task.status === 'canceled')
    throw new TasklaneError('TASK_CANCELED', 'The task was canceled; stop working on it.');
  if (task.status !== 'in_progress' || task.lease === null || task.lease.id !== leaseId) {
    throw new TasklaneError('LEASE_LOST', 'This lease is not the current one: another worker may hold the task now.');
  }
}

/** One report's change, in memory: the record after it, the step rows it appends, its events in order. */
export interface ReportChange {
  next: Task;
  steps: Step[];
  events: NewEvent[];
}

/**
 * The change one report makes to a task whose lease was checked. Steps are a change of their own
 * (version +1, a task.step event per step): before a completion, failure or release (what the
 * worker logged on the way there), after a heartbeat (what it did since). `assignee` is recorded
 * with the transition.
 */
export function reportChange(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  r: ReportBody,
  assignee?: string,
): ReportChange {
  const events: NewEvent[] = [];
  const steps = r.steps !== undefined && r.steps.length > 0 ? writer.stepRows(tx, r.steps) : [];
  let current = task;
  const addSteps = () => {
    if (steps.length === 0) return;
    current = { ...current, version: current.version + 1, updatedAt: tx.now };
    for (const e of stepEvents(current, steps)) events.push(e);
  };
  if (r.action !== 'heartbeat') addSteps();
  let next = writer.next(tx, current, reportEvent(r));
  if (assignee !== undefined && next.assignee !== assignee) next = { ...next, assignee };
  events.push(changeEvent(current, next, r.action));
  current = next;
  if (r.action === 'heartbeat') addSteps();
  return { next: current, steps, events };
}

/**
 * Apply one report to a task this unit holds locked: lease checked, then its change written as one
 * set (and, when the task just finished, its dependents settled in the same unit).
 */
export async function applyReport(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  r: ReportBody,
  lease: ReportLease,
): Promise<Task> {
  assertLease(task, leaseIdFor(task, lease));
  const { next, steps, events } = reportChange(tx, writer, task, r, assigneeFor(lease));
  if (steps.length > 0) await tx.appendSteps(task.orgId, task.id, steps);
  await writer.saveMany(tx, task.orgId, [{ before: task, after: next }], events);
  return next;
}

/** The transition a worker's report asks for. */
export function reportEvent(r: ReportBody): TransitionEvent {
  switch (r.action) {
    case 'heartbeat':
      return { name: 'heartbeat', extendMs: r.extendMs, progress: r.progress, progressMessage: r.progressMessage };
    case 'complete':
      return { name: 'complete', result: (r.result ?? null) as Json, review: r.review };
    case 'fail':
      return {
        name: 'fail',
        error: {
          code: r.error.code,
          message: r.error.message,
          ...(r.error.details === undefined ? {} : { details: r.error.details as Json }),
        },
        retryable: r.retryable,
        retryAfterMs: r.retryAfterMs,
      };
    case 'release':
      return { name: 'release', delayMs: r.delayMs };
    default: {
      const unknown: never = r;
      throw new Error(`unknown report ${JSON.stringify(unknown)}`);
    }
  }
}
