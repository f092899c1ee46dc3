/**
 * Fans the store's committed changes out to the requests waiting on them: long-poll GETs wait on
 * one task, long-poll claims on "something of these types may be claimable now". One store
 * subscription; a change costs one map lookup per kind of waiter.
 */
import type { TaskChange, TaskStore } from '../storage/task-store.js';

export interface Waiter {
  /**
   * Resolves true at the next matching change (at once if one came since the last call), false
   * when `timeoutMs` passed or the signal fired first.
   */
  next(timeoutMs: number): Promise<boolean>;
  close(): void;
}

type Wake = () => void;

export class ChangeHub {
  private readonly byTask = new Map<string, Set<Wake>>();
  private readonly claimers = new Map<string, Set<{ types: ReadonlySet<string>; wake: Wake }>>();

  constructor(store: TaskStore) {
    store.subscribe((change) => this.publish(change));
  }

  private publish(change: TaskChange): void {
    const waiters = this.byTask.get(taskKey(change.orgId, change.taskId));
    if (waiters) for (const wake of [...waiters]) wake();
    // A queued task may be claimable; any other change but a heartbeat may free a concurrency slot.
    if (change.status === 'in_progress') return;
    const claimers = this.claimers.get(change.orgId);
    if (claimers) for (const c of [...claimers]) if (c.types.has(change.type)) c.wake();
  }

  /** Wakes on every change of one task. Armed at once: no change after this call is missed. */
  watchTask(orgId: string, taskId: string, signal?: AbortSignal): Waiter {
    const k = taskKey(orgId, taskId);
    return makeWaiter(signal, (wake) => {
      addTo(this.byTask, k, wake);
      return () => removeFrom(this.byTask, k, wake);
    });
  }

  /** Wakes when a task of one of `types` in the org may have become claimable. */
  watchClaimable(orgId: string, types: readonly string[], signal?: AbortSignal): Waiter {
    return makeWaiter(signal, (wake) => {
      const entry = { types: new Set(types), wake };
      addTo(this.claimers, orgId, entry);
      return () => removeFrom(this.claimers, orgId, entry);
    });
  }

  /** Requests waiting right now. */
  get size(): number {
    let n = 0;
    for (const s of this.byTask.values()) n += s.size;
    for (const s of this.claimers.values()) n += s.size;
    return n;
  }
}

function makeWaiter(signal: AbortSignal | undefined, register: (wake: Wake) => () => void): Waiter {
  let pending = false;
  let resolveNext: ((woke: boolean) => void) | null = null;
  let timer: NodeJS.Timeout | undefined;
  const settle = (woke: boolean) => {
    clearTimeout(timer);
    const r = resolveNext;
    resolveNext = null;
    r?.(woke);
  };
  const wake = () => {
    if (resolveNext) settle(true);
    else pending = true;
  };
  const onAbort = () => settle(false);
  signal?.addEventListener('abort', onAbort, { once: true });
  const unregister = register(wake);
  return {
    next(timeoutMs) {
      if (pending) {
        pending = false;
        return Promise.resolve(true);
      }
      if (signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        resolveNext = resolve;
        timer = setTimeout(() => settle(false), timeoutMs);
      });
    },
    close() {
      unregister();
      signal?.removeEventListener('abort', onAbort);
      settle(false);
    },
  };
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

const taskKey = (orgId: string, taskId: string) => `${orgId}\u0000${taskId}`;
