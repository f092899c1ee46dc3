/** Finding a task by the reference a path carries: its UUID or its project identifier (`OPS-42`). */
import { TasklaneError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import type { StoreReader, StoreWriter, TaskKey } from '../storage/task-store.js';
import { IDENTIFIER_PATTERN, UUID_PATTERN } from './ids.js';

/** True when `ref` has the shape of a task id or identifier. */
export function isTaskRef(ref: string): boolean {
  return UUID_PATTERN.test(ref) || IDENTIFIER_PATTERN.test(ref);
}

/** A missing task, a foreign one and a malformed reference all answer this same 404. */
export const taskNotFound = (): TasklaneError => new TasklaneError('NOT_FOUND', 'No such task.');

/** The key a reference names, or null when it has the shape of neither. */
export function taskKey(ref: string): TaskKey | null {
  if (UUID_PATTERN.test(ref)) return { id: ref.toLowerCase() };
  if (IDENTIFIER_PATTERN.test(ref)) return { identifier: ref };
  return null;
}

export async function findTask(tx: StoreReader, orgId: string, ref: string): Promise<Task> {
  const key = taskKey(ref);
  const task =
    key === null
      ? null
      : 'id' in key
        ? await tx.getTask(orgId, key.id)
        : await tx.getTaskByIdentifier(orgId, key.identifier);
  if (task === null) throw taskNotFound();
  return task;
}

/** Like findTask, with the row locked for the rest of the unit of work. */
export async function findTaskForUpdate(tx: StoreWriter, orgId: string, ref: string): Promise<Task> {
  const id = UUID_PATTERN.test(ref) ? ref.toLowerCase() : (await findTask(tx, orgId, ref)).id;
  const task = await tx.getTaskForUpdate(orgId, id);
  if (task === null) throw taskNotFound();
  return task;
}
