/**
 * A client's changes to one task inside the caller's unit of work: a patch of its fields, and the
 * actions (start, cancel, retry, block, unblock, approve, reject, archive, unarchive). TaskService
 * runs each as a unit of its own; TaskUpdater runs several in one unit.
 */
import type { TaskAction, TaskPatch } from '@tasklane/sdk/schemas';
import { TasklaneError } from '../domain/errors.js';
import { LIMITS, type Json, type JsonObject, type Task } from '../domain/task.js';
import type { TransitionEvent } from '../domain/transitions.js';
import type { StoreWriter } from '../storage/task-store.js';
import { stepEvents } from './task-events.js';
import type { TaskWriter } from './task-writer.js';

export interface ActionBody {
  reason?: string | undefined;
  requeue?: boolean | undefined;
}

export interface PatchOptions {
  /**
   * false (the native PATCH): `metadata` is merged, a null value removing its key; true: it replaces
   * the task's metadata whole (QuantCDN's PUT).
   */
  replaceMetadata?: boolean;
}

/** Apply a patch to a task this unit holds locked: one change, with its event. */
export async function patchTask(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  patch: TaskPatch,
  opts: PatchOptions = {},
): Promise<Task> {
  const metadata =
    patch.metadata === undefined
      ? task.metadata
      : opts.replaceMetadata === true
        ? mergeMetadata({}, patch.metadata)
        : mergeMetadata(task.metadata, patch.metadata);
  if (Object.keys(metadata).length > LIMITS.metadataMaxKeys) {
    throw new TasklaneError('VALIDATION_FAILED', `metadata would have more than ${LIMITS.metadataMaxKeys} keys.`, {
      errors: [{ path: '/metadata', message: `must have at most ${LIMITS.metadataMaxKeys} keys after the merge` }],
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
  await writer.save(tx, task, next, 'patch');
  return next;
}

/** Apply an action to a task this unit holds locked; a reason (but a block's) becomes a step. */
export async function actOn(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  action: TaskAction,
  body: ActionBody,
): Promise<Task> {
  let next: Task;
  if (action === 'archive' || action === 'unarchive') {
    const archive = action === 'archive';
    if ((task.archivedAt !== null) === archive) {
      throw new TasklaneError('INVALID_TRANSITION', `The task is ${archive ? 'already' : 'not'} archived.`);
    }
    next = { ...task, archivedAt: archive ? tx.now : null, version: task.version + 1, updatedAt: tx.now };
    await writer.save(tx, task, next, action);
  } else {
    next = await writer.transition(tx, task, await eventFor(tx, writer, task, action, body));
  }
  if (body.reason !== undefined && action !== 'block') {
    // Part of the action's change (no version of its own), but a step like any other: its event.
    const step = [{ time: tx.now, message: `${action}: ${body.reason}` }];
    await tx.appendSteps(task.orgId, task.id, step);
    await tx.appendEvents(stepEvents(next, step));
  }
  return next;
}

async function eventFor(
  tx: StoreWriter,
  writer: TaskWriter,
  task: Task,
  action: Exclude<TaskAction, 'archive' | 'unarchive'>,
  body: ActionBody,
): Promise<TransitionEvent> {
  switch (action) {
    case 'start':
      return { name: 'start', deps: await writer.dependencyView(tx, task) };
    case 'unblock':
      return { name: 'unblock', deps: await writer.dependencyView(tx, task) };
    case 'cancel':
      return { name: 'cancel', reason: body.reason };
    case 'retry':
      return { name: 'retry', deps: await writer.dependencyView(tx, task) };
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

function mergeMetadata(current: JsonObject, patch: Record<string, unknown>): JsonObject {
  const out: JsonObject = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v as Json;
  }
  return out;
}
