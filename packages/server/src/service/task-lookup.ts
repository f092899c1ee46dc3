/** Finding a task by the reference a path carries: its UUID or its project identifier (`OPS-42`). */
import { TasklaneError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import type { StoreReader, StoreWriter } from '../storage/task-store.js';
import { IDENTIFIER_PATTERN, UUID_PATTERN } from './ids.js';

/** True when `ref` has the shape of a task id or identifier. */
export function isTaskRef(ref: string): boolean {
  return UUID_PATTERN.test(ref) || IDENTIFIER_PATTERN.test(ref);
}

/** A missing task, a foreign one and a malformed reference all answer this same 404. */
export const taskNotFound = (): TasklaneError => new TasklaneError('NOT_FOUND', 'No such task.');

export async function findTask(tx: StoreReader, orgId: string, ref: string): Promise<Task> {
  const task = UUID_PATTERN.test(ref)
    ? await tx.getTask(orgId, ref.toLowerCase())
    : IDENTIFIER_PATTERN.test(ref)
      ? await tx.getTaskByIdentifier(orgId, ref)
      : null;
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
