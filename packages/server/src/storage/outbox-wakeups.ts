/**
 * The listeners of WebhookStore.onDeliveries, shared by both adapters: a store calls `emit` when
 * deliveries may have become due (a unit of its own wrote some, a redelivery was asked for, or
 * another node announced either). The dispatcher sleeps between them, polling only as a fallback.
 */
export class OutboxWakeups {
  private readonly listeners = new Set<() => void>();

  /** Returns the function that removes the listener. */
  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener once. A listener that throws is ignored: what woke it has committed. */
  emit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // The listener's failure is its own.
      }
    }
  }
}
