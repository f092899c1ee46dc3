/**
 * Counts the errors storage throws that are not answers of the domain: STORAGE_UNAVAILABLE and
 * anything that is no catalogue error (a driver's, a broken invariant). A view of the store that
 * every service uses, so every operation is counted whoever called it; what it does not name
 * (subscribe, close, methods added later) passes through untouched.
 */
import type { Counter } from 'prom-client';
import { TasklaneError } from '../../domain/errors.js';
import type { TaskStore } from '../../storage/task-store.js';

/** The operations counted: the store's calls that reach the database (`webhooks`: any of its outbox's). */
const OPERATIONS = ['read', 'write', 'getTaskDocument', 'findKeyByHash', 'ping', 'migrate', 'webhooks'] as const;
type Operation = (typeof OPERATIONS)[number];

const isStorageError = (err: unknown): boolean => !(err instanceof TasklaneError) || err.code === 'STORAGE_UNAVAILABLE';

export function countingStoreErrors(store: TaskStore, errors: Counter<'operation'>): TaskStore {
  for (const operation of OPERATIONS) errors.inc({ operation }, 0);
  const counted =
    (operation: Operation, method: (...args: unknown[]) => unknown, self: object) =>
    (...args: unknown[]) => {
      const result = method.apply(self, args);
      // Only promises reach the database; a listener registration (onDeliveries) passes as it is.
      if (!(result instanceof Promise)) return result;
      return result.catch((err: unknown) => {
        if (isStorageError(err)) errors.inc({ operation });
        throw err;
      });
    };
  const wrapped = new Map<PropertyKey, unknown>();
  for (const operation of OPERATIONS) {
    if (operation === 'webhooks') continue;
    wrapped.set(operation, counted(operation, store[operation] as (...args: unknown[]) => unknown, store));
  }
  // The webhook outbox is a part of the store of its own: every call of it counts as `webhooks`.
  const outbox = store.webhooks;
  wrapped.set('webhooks', new Proxy(outbox, { get: (target, property) => member(target, property, 'webhooks') }));

  function member(target: object, property: PropertyKey, operation: Operation | null): unknown {
    const value: unknown = Reflect.get(target, property, target);
    if (typeof value !== 'function') return value;
    const fn = value as (...a: unknown[]) => unknown;
    return operation === null ? fn.bind(target) : counted(operation, fn, target);
  }
  return new Proxy(store, {
    get(target, property) {
      return wrapped.has(property) ? wrapped.get(property) : member(target, property, null);
    },
  });
}
