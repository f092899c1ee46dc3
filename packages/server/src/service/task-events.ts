/** The event rows a change writes (SPEC §10), computed from the record before and after. */
import type { Task } from '../domain/task.js';
import type { NewEvent } from '../storage/task-store.js';

export function createdEvent(t: Task): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.created', data: { status: t.status, version: t.version } };
}

/** One event per change: a status change wins, then progress, else a plain update. */
export function changeEvent(before: Task, after: Task, cause: string): NewEvent {
  const base = { orgId: after.orgId, taskId: after.id };
  if (before.status !== after.status) {
    return {
      ...base,
      type: 'task.status_changed',
      data: { from: before.status, to: after.status, cause, version: after.version },
    };
  }
  if (before.progress !== after.progress || before.progressMessage !== after.progressMessage) {
    return {
      ...base,
      type: 'task.progress',
      data: { progress: after.progress, progressMessage: after.progressMessage, version: after.version },
    };
  }
  return { ...base, type: 'task.updated', data: { cause, version: after.version } };
}

export function stepEvent(t: Task, count: number): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.step', data: { count, version: t.version } };
}

export function deletedEvent(t: Task): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.deleted', data: { version: t.version } };
}
