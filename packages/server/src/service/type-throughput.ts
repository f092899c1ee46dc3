/**
 * Completions and failures of one type per minute (`GET /v1/types/{type}/throughput`), for the
 * dashboard's chart: the store counts them by the minute of `completedAt` (`completionsByMinute`),
 * exactly, and this fills the minutes without any with zeros.
 */
import type { TaskStore } from '../storage/task-store.js';

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
      for (const row of await tx.completionsByMinute(orgId, type, first)) {
        // A completion stamped after this node's now (another node's clock) counts in the last minute.
        const bucket = buckets[Math.min(minutes - 1, Math.floor((row.minute - first) / MINUTE))];
        if (bucket === undefined) continue;
        bucket.completed += row.completed;
        bucket.failed += row.failed;
      }
      return { type, buckets };
    });
  }
}
