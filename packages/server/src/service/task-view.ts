/** What the use cases answer about a task: the record with its whole step history. */
import type { Step, Task } from '../domain/task.js';
import type { StoreReader } from '../storage/task-store.js';

export interface TaskView {
  task: Task;
  steps: Step[];
}

/** Views of many tasks, their steps read in one go (lists, claims, an idempotent replay). */
export async function withSteps(tx: StoreReader, orgId: string, tasks: Task[]): Promise<TaskView[]> {
  const steps = await tx.getStepsOf(
    orgId,
    tasks.map((t) => t.id),
  );
  return tasks.map((task) => ({ task, steps: steps.get(task.id) ?? [] }));
}
