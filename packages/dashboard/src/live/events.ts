/**
 * The event stream's contract (GET /v1/events, GET /v1/tasks/{id}/events), as docs/events.md
 * defines it: frames `id: <n>`, `event: <type>`, `data: <json>`, the json being the TaskEvent below.
 */
import type { Step, TaskStatus } from '@tasklane/sdk';

export const TASK_EVENT_TYPES = [
  'task.created',
  'task.status_changed',
  'task.progress',
  'task.step',
  'task.updated',
  'task.deleted',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

interface EventData {
  'task.created': { status: TaskStatus; version: number };
  'task.status_changed': { from: TaskStatus; to: TaskStatus; cause: string; version: number };
  'task.progress': { progress: number | null; progressMessage: string | null; version: number };
  'task.step': { step: Step; version: number };
  'task.updated': { cause: string; version: number };
  'task.deleted': { version: number };
}

export type TaskEvent = {
  [T in TaskEventType]: { id: number; type: T; taskId: string; time: string; data: EventData[T] };
}[TaskEventType];

/** The frame's JSON as a TaskEvent, or null when it is not one (an event type this page does not know). */
export function parseTaskEvent(json: string): TaskEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const e = v as Partial<TaskEvent>;
  if (typeof e.id !== 'number' || typeof e.taskId !== 'string' || typeof e.time !== 'string') return null;
  if (!(TASK_EVENT_TYPES as readonly string[]).includes(String(e.type))) return null;
  if (typeof e.data !== 'object' || e.data === null) return null;
  return e as TaskEvent;
}
