/** Read-only views over many tasks: a list's counts and graph, an org's stats (SPEC §4). */
import { STATUSES, type TaskStatus } from '../domain/status.js';
import type { TaskStore } from '../storage/task-store.js';

/** A list's graph is drawn from at most this many tasks; `truncated` says when there were more. */
export const LIST_GRAPH_MAX = 1000;

export interface ListView {
  listId: string;
  total: number;
  counts: Record<TaskStatus, number>;
  nodes: Array<{ id: string; identifier: string | null; type: string; title: string; status: TaskStatus }>;
  edges: Array<{ from: string; to: string }>;
  truncated: boolean;
}

export interface Stats {
  total: number;
  byStatus: Record<TaskStatus, number>;
  byType: Record<string, Record<TaskStatus, number>>;
  oldestQueuedAgeMs: number | null;
  claimsPerMinute: number;
}

const zeroCounts = (): Record<TaskStatus, number> =>
  Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;

export class InsightsService {
  constructor(private readonly store: TaskStore) {}

  list(orgId: string, listId: string): Promise<ListView> {
    return this.store.read(async (tx) => {
      const counts = zeroCounts();
      let total = 0;
      for (const row of await tx.countTasks(orgId, listId)) {
        counts[row.status] += row.count;
        total += row.count;
      }
      const tasks = await tx.getListTasks(orgId, listId, LIST_GRAPH_MAX);
      const ids = new Set(tasks.map((t) => t.id));
      return {
        listId,
        total,
        counts,
        nodes: tasks.map((t) => ({
          id: t.id,
          identifier: t.identifier,
          type: t.type,
          title: t.title,
          status: t.status,
        })),
        // An edge points from the dependency to the task that waits for it; only edges inside the list.
        edges: tasks.flatMap((t) => t.dependsOn.filter((d) => ids.has(d)).map((d) => ({ from: d, to: t.id }))),
        truncated: total > tasks.length,
      };
    });
  }

  /** Of the whole org, or of one type when `type` is given (then `byType` holds that type alone, if it has tasks). */
  stats(orgId: string, type?: string): Promise<Stats> {
    return this.store.read(async (tx) => {
      const byStatus = zeroCounts();
      const byType: Record<string, Record<TaskStatus, number>> = {};
      let total = 0;
      for (const row of await tx.countTasks(orgId)) {
        if (type !== undefined && row.type !== type) continue;
        byStatus[row.status] += row.count;
        (byType[row.type] ??= zeroCounts())[row.status] += row.count;
        total += row.count;
      }
      const oldest = await tx.oldestQueuedAt(orgId, type);
      return {
        total,
        byStatus,
        byType,
        oldestQueuedAgeMs: oldest === null ? null : Math.max(0, tx.now - oldest),
        claimsPerMinute: await tx.countClaims(orgId, tx.now - 60_000, type),
      };
    });
  }
}
