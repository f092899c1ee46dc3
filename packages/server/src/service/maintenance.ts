/**
 * Background upkeep, run on every node: the lease sweeper (expired leases and timeouts back to
 * the queue, at least every second) and the reaper (expired tasks, old events, idempotency
 * records and claim log rows, in bounded batches). Each task is settled in its own unit of work
 * that re-checks, under the row lock, that it is still overdue: a heartbeat that extended the lease
 * in time always wins, and two nodes sweeping at once settle each task once.
 */
import type { TaskStore } from '../storage/task-store.js';
import type { TaskWriter } from './task-writer.js';

export interface MaintenanceOptions {
  sweepEveryMs?: number;
  reapEveryMs?: number;
  /** Events are kept at least this long (SPEC §10: 24 h). */
  eventRetentionMs?: number;
  idempotencyRetentionMs?: number;
  claimLogRetentionMs?: number;
  /** Delivered and failed webhook deliveries are kept this long (default 7 days). */
  deliveryRetentionMs?: number;
  batch?: number;
  onError?: (err: unknown) => void;
}

const HOUR = 3600_000;

export class Maintenance {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: TaskStore,
    private readonly writer: TaskWriter,
    private readonly opts: MaintenanceOptions = {},
  ) {}

  /** Settle every overdue in-progress task; returns how many changed. */
  async sweepOnce(): Promise<number> {
    const batch = this.opts.batch ?? 500;
    let settled = 0;
    for (;;) {
      const overdue = await this.store.read((tx) => tx.overdueTasks(batch));
      let failed = 0;
      for (const o of overdue) {
        // One task that cannot be settled must not hold back the others: report it, go on.
        const changed = await this.store
          .write(async (tx) => {
            const task = await tx.getTaskForUpdate(o.orgId, o.taskId);
            if (task === null || task.status !== 'in_progress') return false;
            if (task.lease !== null && task.lease.expiresAt <= tx.now) {
              await this.writer.transition(tx, task, { name: 'lease_expired' });
              return true;
            }
            if (task.timeoutAt !== null && task.timeoutAt <= tx.now) {
              await this.writer.transition(tx, task, { name: 'timeout' });
              return true;
            }
            return false;
          })
          .catch((err: unknown) => {
            failed++;
            this.opts.onError?.(err);
            return false;
          });
        if (changed) settled++;
      }
      // A full batch of tasks that all failed would come back the same: stop until the next tick.
      if (overdue.length < batch || failed === overdue.length) return settled;
    }
  }

  /** Delete what retention says is gone; returns how many tasks were deleted. */
  async reapOnce(): Promise<number> {
    const batch = this.opts.batch ?? 500;
    let deleted = 0;
    for (;;) {
      const n = await this.store.write((tx) =>
        tx.reap(batch, {
          eventsBefore: tx.now - (this.opts.eventRetentionMs ?? 24 * HOUR),
          idempotencyBefore: tx.now - (this.opts.idempotencyRetentionMs ?? 24 * HOUR),
          claimsBefore: tx.now - (this.opts.claimLogRetentionMs ?? HOUR),
        }),
      );
      deleted += n;
      if (n < batch) break;
    }
    // Webhook deliveries done with (delivered or failed) go after a week, in their own units.
    const now = await this.store.read(async (tx) => tx.now);
    const before = now - (this.opts.deliveryRetentionMs ?? 7 * 24 * HOUR);
    while ((await this.store.webhooks.pruneDeliveries(before, batch)) === batch);
    return deleted;
  }

  start(): void {
    const every = (ms: number, job: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        // One job at a time per node; a slow sweep delays the next instead of piling up.
        this.running = this.running.then(job).catch((err: unknown) => this.opts.onError?.(err));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.opts.sweepEveryMs ?? 250, () => this.sweepOnce());
    every(this.opts.reapEveryMs ?? 60_000, () => this.reapOnce());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
  }
}
