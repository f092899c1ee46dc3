/**
 * Storage that fails halfway through a unit of work: the store, passed through, except that inside
 * every `write` unit the named StoreWriter method throws (from its `after + 1`-th call on), after
 * whatever the unit wrote before it.
 * A request that is one unit leaves nothing behind; one split over several units would leave the
 * units before the failure committed. With an app over it (appOver), a test drives a request through
 * the real routes and services and reads the outcome through the healthy store.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/service/services.js';
import type { StoreWriter, TaskStore } from '../../src/storage/task-store.js';

export function failingAt(
  inner: TaskStore,
  method: keyof StoreWriter,
  opts: { after?: number; error?: Error } = {},
): TaskStore {
  const err = opts.error ?? new Error('EIO: disk failure');
  // Each unit's calls of `method` are counted: the first `after` of them go through.
  const faulty = (tx: StoreWriter): StoreWriter => {
    let calls = 0;
    return new Proxy(tx, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        if (key !== method) return bound;
        return async (...args: unknown[]) => {
          if (++calls > (opts.after ?? 0)) throw err;
          return bound(...args);
        };
      },
    });
  };
  return {
    capabilities: inner.capabilities,
    webhooks: inner.webhooks,
    migrate: () => inner.migrate(),
    read: (fn) => inner.read(fn),
    write: (fn) => inner.write((tx) => fn(faulty(tx))),
    getTaskDocument: (orgId, key) => inner.getTaskDocument(orgId, key),
    findKeyByHash: (hash) => inner.findKeyByHash(hash),
    subscribe: (listener) => inner.subscribe(listener),
    onCommit: (listener) => inner.onCommit(listener),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** The app (never listening) over `store`, with services of its own; close it, not the store. */
export async function appOver(store: TaskStore): Promise<FastifyInstance> {
  const app = await buildApp({ services: createServices(store, { clock: systemClock }), rateLimit: 0 });
  await app.ready();
  return app;
}

/** The events of one task, oldest first, as the healthy store has them. */
export async function eventsOf(store: TaskStore, orgId: string, taskId: string): Promise<string[]> {
  const events = await store.read((tx) => tx.listEvents(orgId, 0, 10_000, { taskId }));
  return events.map((e) => `${e.type} v${String((e.data as { version: number }).version)}`);
}
