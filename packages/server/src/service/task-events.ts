/** The event rows a change writes (SPEC §10), computed from the record before and after. */
import type { Task } from '../domain/task.js';
import type { NewEvent } from '../storage/task-store.js';

export function createdEvent(t: Task): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.created', data: { status: t.status, version: t.version } };
}

/**
 * One event per change: a status change wins, then progress, else a plain update. Each written out
 * whole: a spread of a common base that adds properties costs about 2 µs in Node 20, and every
 * claim and completion makes one of these.
 */
export function changeEvent(before: Task, after: Task, cause: string): NewEvent {
  if (before.status !== after.status) {
    return {
      orgId: after.orgId,
      taskId: after.id,
      type: 'task.status_changed',
      data: { from: before.status, to: after.status, cause, version: after.version },
    };
  }
  if (before.progress !== after.progress || before.progressMessage !== after.progressMessage) {
    return {
      orgId: after.orgId,
      taskId: after.id,
      type: 'task.progress',
      data: { progress: after.progress, progressMessage: after.progressMessage, version: after.version },
    };
  }
  return { orgId: after.orgId, taskId: after.id, type: 'task.updated', data: { cause, version: after.version } };
}

export function stepEvent(t: Task, count: number): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.step', data: { count, version: t.version } };
}

export function deletedEvent(t: Task): NewEvent {
  return { orgId: t.orgId, taskId: t.id, type: 'task.deleted', data: { version: t.version } };
}
