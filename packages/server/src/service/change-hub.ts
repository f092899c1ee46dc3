/**
 * Fans the store's committed changes out to the requests waiting on them (long-poll GET today,
 * claims and event streams later). One store subscription, one map lookup per change.
 */
import type { TaskChange, TaskStore } from '../storage/task-store.js';

export interface TaskWaiter {
  /** Resolves true on the next change of the task, false when the time is up or the signal fired. */
  next(): Promise<boolean>;
  close(): void;
}

export class ChangeHub {
  private readonly byTask = new Map<string, Set<() => void>>();

  constructor(store: TaskStore) {
    store.subscribe((change) => this.publish(change));
  }

  private publish(change: TaskChange): void {
    const waiters = this.byTask.get(key(change.orgId, change.taskId));
    if (waiters) for (const wake of [...waiters]) wake();
  }

  /** A waiter on one task, armed at once so that no change after this call is missed. */
  waitForTask(orgId: string, taskId: string, timeoutMs: number, signal?: AbortSignal): TaskWaiter {
    const k = key(orgId, taskId);
    let pending = 0;
    let resolveNext: ((woke: boolean) => void) | null = null;
    let done = false;
    const wake = () => {
      if (resolveNext) {
        const r = resolveNext;
        resolveNext = null;
        r(true);
      } else pending++;
    };
    const finish = () => {
      done = true;
      if (resolveNext) {
        const r = resolveNext;
        resolveNext = null;
        r(false);
      }
    };
    const timer = setTimeout(finish, timeoutMs);
    signal?.addEventListener('abort', finish, { once: true });
    let set = this.byTask.get(k);
    if (!set) {
      set = new Set();
      this.byTask.set(k, set);
    }
    set.add(wake);
    const close = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      const s = this.byTask.get(k);
      s?.delete(wake);
      if (s && s.size === 0) this.byTask.delete(k);
      finish();
    };
    return {
      next: () => {
        if (pending > 0) {
          pending = 0;
          return Promise.resolve(true);
        }
        if (done) return Promise.resolve(false);
        return new Promise<boolean>((resolve) => (resolveNext = resolve));
      },
      close,
    };
  }

  /** Waiting requests right now (for metrics and shutdown). */
  get size(): number {
    let n = 0;
    for (const s of this.byTask.values()) n += s.size;
    return n;
  }
}

const key = (orgId: string, taskId: string) => `${orgId}\u0000${taskId}`;
