/**
 * Gauges read from storage: tasks by status and type, and the age of the oldest claimable task per
 * type. Every org's tasks are counted in one grouped statement (TaskStore.taskCensus), read at most
 * once per `ttlMs` (5 s) per node whatever the number of scrapers; scrapes in between get the
 * cached figures. Each node reports the same totals: aggregate them across nodes with max, not sum.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../domain/clock.js';
import type { CensusRow, TaskStore } from '../../storage/task-store.js';
import type { TypeLabels } from './type-labels.js';

export const CENSUS_TTL_MS = 5_000;

interface Census {
  rows: CensusRow[];
  /** The store's clock when it was read. */
  now: number;
}

export class TaskCensusMetrics {
  private cached: { at: number; census: Promise<Census> } | null = null;

  constructor(
    registry: Registry,
    private readonly store: TaskStore,
    private readonly types: TypeLabels,
    private readonly clock: Clock,
    private readonly ttlMs: number = CENSUS_TTL_MS,
  ) {
    const read = () => this.read();
    const typeOf = (type: string) => this.types.of(type);
    new Gauge({
      name: 'tasklane_tasks',
      help: `Tasks by status and type, archived included (read from storage at most every ${ttlMs / 1000} s)`,
      labelNames: ['status', 'type'],
      registers: [registry],
      async collect() {
        const c = await read();
        if (c === null) return; // storage did not answer: the last figures stand
        this.reset();
        const sums = new Map<string, { status: string; type: string; n: number }>();
        for (const r of c.rows) {
          const type = typeOf(r.type);
          const key = `${r.status}\n${type}`;
          const s = sums.get(key) ?? { status: r.status, type, n: 0 };
          s.n += r.count;
          sums.set(key, s);
        }
        for (const s of sums.values()) this.set({ status: s.status, type: s.type }, s.n);
      },
    });
    new Gauge({
      name: 'tasklane_queue_oldest_age_seconds',
      help: 'How long the longest-waiting claimable task of each type has been claimable',
      labelNames: ['type'],
      registers: [registry],
      async collect() {
        const c = await read();
        if (c === null) return;
        this.reset();
        const oldest = new Map<string, number>();
        for (const r of c.rows) {
          if (r.oldestClaimableAt === null) continue;
          const type = typeOf(r.type);
          oldest.set(type, Math.min(oldest.get(type) ?? Infinity, r.oldestClaimableAt));
        }
        for (const [type, since] of oldest) this.set({ type }, Math.max(0, c.now - since) / 1000);
      },
    });
  }

  /** The census no older than ttlMs, read now if it is; null when storage fails (counted there). */
  private async read(): Promise<Census | null> {
    const now = this.clock.now();
    if (this.cached === null || now - this.cached.at >= this.ttlMs) {
      const census = this.store.read(async (tx) => ({ rows: await tx.taskCensus(), now: tx.now }));
      this.cached = { at: now, census };
      // A failed read is not kept: the next scrape tries again.
      census.catch(() => {
        if (this.cached?.census === census) this.cached = null;
      });
    }
    return this.cached.census.catch(() => null);
  }
}
