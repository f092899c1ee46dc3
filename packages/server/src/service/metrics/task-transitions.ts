/**
 * Task counters and durations, counted from the events each write unit commits (TaskStore.onCommit):
 * one source of truth, and only on the node whose unit committed them, so a change made through
 * any node is counted once and Prometheus sums the nodes. What counts as what:
 * - created: task.created;
 * - claimed: a status change to in_progress; completed, failed, canceled: a change to that status
 *   (canceled also: a task created canceled, its dependency failed already);
 * - retried: an attempt that failed, timed out or lost its lease going back to queued, and a
 *   person's retry of a failed or canceled task;
 * - lease_expired: a change the sweeper made because a lease expired (cause `lease_expired`),
 *   whether the task was queued again or failed.
 * Durations come from the event's measures (task-events.ts), in the store's clock.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { NewEvent } from '../../storage/task-store.js';
import type { TypeLabels } from './type-labels.js';

/** Seconds, from a fast worker's pick-up to a day-long job. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10_800, 43_200, 86_400];

/** The transitions to a new attempt: a failed attempt queued again, or a person's retry. */
const RETRY_CAUSES = new Set(['fail', 'lease_expired', 'timeout']);

type Transition = 'created' | 'claimed' | 'completed' | 'failed' | 'retried' | 'lease_expired' | 'canceled';

const HELP: Record<Transition, string> = {
  created: 'Tasks created',
  claimed: 'Tasks claimed by a worker (one per attempt)',
  completed: 'Tasks that reached completed',
  failed: 'Tasks that reached failed',
  retried: 'Attempts queued again after a failure, timeout or lost lease, and retries a person asked for',
  lease_expired: 'Attempts whose lease expired (the sweeper queued the task again or failed it)',
  canceled: 'Tasks that reached canceled',
};

export class TaskTransitionMetrics {
  private readonly counters: Record<Transition, Counter<'type'>>;
  private readonly waited: Histogram<'type'>;
  private readonly ran: Histogram<'type'>;

  constructor(
    registry: Registry,
    private readonly types: TypeLabels,
  ) {
    const counter = (t: Transition) =>
      new Counter({ name: `tasklane_tasks_${t}_total`, help: HELP[t], labelNames: ['type'], registers: [registry] });
    this.counters = {
      created: counter('created'),
      claimed: counter('claimed'),
      completed: counter('completed'),
      failed: counter('failed'),
      retried: counter('retried'),
      lease_expired: counter('lease_expired'),
      canceled: counter('canceled'),
    };
    this.waited = new Histogram({
      name: 'tasklane_task_queue_wait_seconds',
      help: 'From the moment a task could be claimed (its runAt, else when it was queued) to its claim',
      labelNames: ['type'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.ran = new Histogram({
      name: 'tasklane_task_run_seconds',
      help: 'From a claim to the end of that attempt (completed, failed, queued again, canceled, released)',
      labelNames: ['type'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** The onCommit listener: every event of one committed unit. */
  readonly count = (events: readonly NewEvent[]): void => {
    for (const e of events) {
      if (e.type === 'task.created') this.created(e);
      else if (e.type === 'task.status_changed') this.statusChanged(e);
    }
  };

  private created(e: NewEvent): void {
    const type = this.types.of(e.taskType);
    this.counters.created.inc({ type });
    // Created canceled: a dependency had already failed. It never changes status to get there.
    if ((e.data as { status?: unknown }).status === 'canceled') this.counters.canceled.inc({ type });
  }

  private statusChanged(e: NewEvent): void {
    const type = this.types.of(e.taskType);
    const { to, cause } = e.data as { to?: unknown; cause?: unknown };
    if (to === 'in_progress') this.counters.claimed.inc({ type });
    else if (to === 'completed' || to === 'failed' || to === 'canceled') this.counters[to].inc({ type });
    if (cause === 'lease_expired') this.counters.lease_expired.inc({ type });
    if (cause === 'retry' || (to === 'queued' && typeof cause === 'string' && RETRY_CAUSES.has(cause))) {
      this.counters.retried.inc({ type });
    }
    const m = e.measures;
    if (m?.waitedMs !== undefined) this.waited.observe({ type }, m.waitedMs / 1000);
    if (m?.ranMs !== undefined) this.ran.observe({ type }, m.ranMs / 1000);
  }
}
