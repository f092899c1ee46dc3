/**
 * The records of in-progress tasks this store committed, so that a report on one of them (a
 * heartbeat, a completion) can confirm the stored row by its version instead of reading the
 * whole row again: a worker reports on what it claimed, and the claim wrote that very record.
 *
 * Safe by construction, whatever else writes the database (another node, another process): a
 * record is kept only after the unit that wrote it committed, and under its version, which every
 * change of a task raises and none reuses. A row found at the cached version is the cached record,
 * field for field; at any other version the row is read in full. Records in any other status
 * leave the cache, and so does the oldest once it holds `limit`.
 */
import type { Task } from '../domain/task.js';

export interface TaskRef {
  orgId: string;
  taskId: string;
}

/** What one unit of work wrote, in order; handed to the cache if, and only if, it commits. */
export class UnitWrites {
  readonly written: Task[] = [];
  readonly deleted: TaskRef[] = [];

  /** A savepoint: `undo(mark())` forgets what was written after it. */
  mark(): { written: number; deleted: number } {
    return { written: this.written.length, deleted: this.deleted.length };
  }

  undo(mark: { written: number; deleted: number }): void {
    this.written.length = mark.written;
    this.deleted.length = mark.deleted;
  }
}

const keyOf = (orgId: string, taskId: string) => `${orgId}\u0000${taskId}`;

export class RecordCache {
  private readonly records = new Map<string, Task>();

  /**
   * `limit`: records kept at most. In-progress tasks are what workers hold right now (a few
   * hundred for three workers of concurrency 100); a record kept here lives on from its claim to
   * its report, and the claim had it in memory anyway.
   */
  constructor(private readonly limit = 2_000) {}

  get(orgId: string, taskId: string): Task | undefined {
    return this.records.get(keyOf(orgId, taskId));
  }

  /** Take in a committed unit's writes: the last record of each task counts. */
  commit(writes: UnitWrites): void {
    for (const t of writes.written) {
      const key = keyOf(t.orgId, t.id);
      // Deleted first, so that a record set again moves to the end: the oldest go first.
      this.records.delete(key);
      if (t.status === 'in_progress') this.records.set(key, t);
    }
    for (const d of writes.deleted) this.records.delete(keyOf(d.orgId, d.taskId));
    for (const key of this.records.keys()) {
      if (this.records.size <= this.limit) break;
      this.records.delete(key);
    }
  }

  /**
   * Split `ids` into the records the cache holds at the version the database has now (`current`:
   * id → stored version, for the ids that exist) and the ids whose rows must be read in full.
   */
  confirm(
    orgId: string,
    ids: Iterable<string>,
    current: ReadonlyMap<string, number>,
  ): { hits: Task[]; misses: string[] } {
    const hits: Task[] = [];
    const misses: string[] = [];
    for (const id of ids) {
      const version = current.get(id);
      if (version === undefined) continue;
      const cached = this.get(orgId, id);
      if (cached !== undefined && cached.version === version) hits.push(cached);
      else misses.push(id);
    }
    return { hits, misses };
  }

  /** Whether any of `ids` has a record here (else confirming versions would only cost a query). */
  holdsAny(orgId: string, ids: Iterable<string>): boolean {
    for (const id of ids) if (this.records.has(keyOf(orgId, id))) return true;
    return false;
  }

  get size(): number {
    return this.records.size;
  }
}
