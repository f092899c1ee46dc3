/**
 * Counts the errors storage throws that are not answers of the domain: STORAGE_UNAVAILABLE and
 * anything that is no catalogue error (a driver's, a broken invariant). A view of the store that
 * every service uses, so every operation is counted whoever called it; what it does not name
 * (subscribe, close, methods added later) passes through untouched.
 */
import type { Counter } from 'prom-client';
import { TasklaneError } from '../../domain/errors.js';
import type { TaskStore } from '../../storage/task-store.js';

/** The operations counted: the store's calls that reach the database. */
const OPERATIONS = ['read', 'write', 'getTaskDocument', 'findKeyByHash', 'ping', 'migrate'] as const;
type Operation = (typeof OPERATIONS)[number];

const isStorageError = (err: unknown): boolean => !(err instanceof TasklaneError) || err.code === 'STORAGE_UNAVAILABLE';

export function countingStoreErrors(store: TaskStore, errors: Counter<'operation'>): TaskStore {
  for (const operation of OPERATIONS) errors.inc({ operation }, 0);
  const wrapped = new Map<PropertyKey, unknown>();
  for (const operation of OPERATIONS) {
    const method = store[operation] as (...args: unknown[]) => Promise<unknown>;
    wrapped.set(operation, (...args: unknown[]) =>
      method.apply(store, args).catch((err: unknown) => {
        if (isStorageError(err)) errors.inc({ operation: operation satisfies Operation });
        throw err;
      }),
    );
  }
  return new Proxy(store, {
    get(target, property, receiver) {
      const w = wrapped.get(property);
      if (w !== undefined) return w;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
