/**
 * The listeners of TaskStore.onCommit, shared by both adapters: each store calls `emit` after a
 * write unit commits, with the events the unit wrote.
 */
import type { NewEvent, Unsubscribe } from './task-store.js';

export class CommitHooks {
  private readonly listeners = new Set<(events: readonly NewEvent[]) => void>();

  add(listener: (events: readonly NewEvent[]) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener once, unless the unit wrote no events. A listener that throws is ignored. */
  emit(events: readonly NewEvent[]): void {
    if (events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(events);
      } catch {
        // The unit has committed; a listener's failure (a metrics bug) must not fail the write.
      }
    }
  }
}
