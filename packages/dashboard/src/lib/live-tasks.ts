/**
 * Applying events to tasks already on screen: each event carries the task's version after it, so
 * an event no newer than what is shown changes nothing (an event that arrives twice, or after a
 * refetch that already had it, is harmless).
 */
import type { Stats, Task, TaskList, TaskStatus } from '@tasklane/sdk';
import type { TaskEvent } from '../live/events.js';
import { unreachable } from './format.js';

/** The task with the event applied, or the same object when the event adds nothing. */
export function applyEvent(task: Task, e: TaskEvent): Task {
  if (e.taskId !== task.id || e.data.version <= task.version) return task;
  const base = { ...task, version: e.data.version, updatedAt: e.time };
  switch (e.type) {
    case 'task.status_changed':
      return { ...base, status: e.data.to };
    case 'task.progress':
      return { ...base, progress: e.data.progress, progressMessage: e.data.progressMessage };
    case 'task.step':
      return { ...base, steps: [...task.steps, e.data.step] };
    case 'task.created':
    case 'task.updated':
    case 'task.deleted':
      // task.updated says what changed only by `cause`: the caller fetches the task again.
      return base;
    default:
      return unreachable(e);
  }
}

/** Status counts moved by an event (created, status changed); null when the event moves none. */
export function applyToStats(stats: Stats, e: TaskEvent): Stats | null {
  const move = (from: TaskStatus | null, to: TaskStatus | null): Stats => {
    const byStatus = { ...stats.byStatus };
    if (from !== null) byStatus[from] = Math.max(0, (byStatus[from] ?? 0) - 1);
    if (to !== null) byStatus[to] = (byStatus[to] ?? 0) + 1;
    return { ...stats, byStatus, total: stats.total + (from === null ? 1 : 0) - (to === null ? 1 : 0) };
  };
  if (e.type === 'task.created') return move(null, e.data.status);
  if (e.type === 'task.status_changed') return move(e.data.from, e.data.to);
  return null;
}

/** A page read again, each row kept as shown when what is shown is newer than what was read. */
export function keepNewer(shown: TaskList | null, read: TaskList): TaskList {
  if (shown === null) return read;
  const current = new Map(shown.items.map((t) => [t.id, t]));
  return {
    ...read,
    items: read.items.map((t) => {
      const s = current.get(t.id);
      return s !== undefined && s.version > t.version ? s : t;
    }),
  };
}

/**
 * The last events seen (at most `max`), by task: a page read from a snapshot taken before some of
 * them arrives after them, and gets them applied again (applyEvent skips what it already has).
 */
export class RecentEvents {
  readonly #byTask = new Map<string, TaskEvent[]>();
  #count = 0;
  constructor(private readonly max = 2000) {}

  add(e: TaskEvent): void {
    if (this.#count >= this.max) {
      this.#byTask.clear();
      this.#count = 0;
    }
    const list = this.#byTask.get(e.taskId);
    if (list === undefined) this.#byTask.set(e.taskId, [e]);
    else list.push(e);
    this.#count += 1;
  }

  applyTo(page: TaskList): TaskList {
    if (this.#count === 0) return page;
    return {
      ...page,
      items: page.items.map((t) => (this.#byTask.get(t.id) ?? []).reduce(applyEvent, t)),
    };
  }
}
