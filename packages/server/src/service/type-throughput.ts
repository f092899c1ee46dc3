/**
 * Completions and failures of one type per minute (`GET /v1/types/{type}/throughput`), for the
 * dashboard's chart.
 *
 * Computed from an existing reader method, `listTasks`: the finished tasks of the type, newest
 * created first, bucketed by `completedAt`. The scan is bounded (THROUGHPUT_SCAN_MAX tasks), so a
 * type with more finished tasks than that answers `truncated: true` and counts that are a lower
 * bound (the tasks created longest ago are the ones left out). The exact and cheap answer needs a
 * store method that counts by `completed_at` over an index on (org_id, type, completed_at); the
 * storage contract is being reworked, so that method waits (see docs/api.md, "Throughput").
 */
import type { TaskStore } from '../storage/task-store.js';

/** Finished tasks read per request, at most. */
export const THROUGHPUT_SCAN_MAX = 2000;
const PAGE = 200;
const MINUTE = 60_000;

export interface ThroughputBucket {
  /** Start of the minute, epoch ms. */
  minute: number;
  completed: number;
  failed: number;
}

export interface Throughput {
  type: string;
  buckets: ThroughputBucket[];
  truncated: boolean;
}

export class TypeThroughputService {
  constructor(private readonly store: TaskStore) {}

  /** `minutes` buckets, oldest first, the current (partial) minute last. */
  throughput(orgId: string, type: string, minutes: number): Promise<Throughput> {
    return this.store.read(async (tx) => {
      const last = Math.floor(tx.now / MINUTE) * MINUTE;
      const first = last - (minutes - 1) * MINUTE;
      const buckets: ThroughputBucket[] = Array.from({ length: minutes }, (_, i) => ({
        minute: first + i * MINUTE,
        completed: 0,
        failed: 0,
      }));
      const filter = { type, status: ['completed' as const, 'failed' as const], archived: true };
      let afterId: string | null = null;
      let scanned = 0;
      let truncated = false;
      for (;;) {
        const page = await tx.listTasks(orgId, filter, PAGE, afterId);
        for (const t of page.items) {
          if (t.completedAt === null || t.completedAt < first) continue;
          const bucket = buckets[Math.min(minutes - 1, Math.floor((t.completedAt - first) / MINUTE))];
          if (bucket === undefined) continue;
          if (t.status === 'completed') bucket.completed += 1;
          else bucket.failed += 1;
        }
        scanned += page.items.length;
        if (!page.hasMore || page.lastId === null) break;
        if (scanned >= THROUGHPUT_SCAN_MAX) {
          truncated = true;
          break;
        }
        afterId = page.lastId;
      }
      return { type, buckets, truncated };
    });
  }
}
