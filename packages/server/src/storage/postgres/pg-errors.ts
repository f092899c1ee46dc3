/**
 * What a node-postgres error means to Tasklane: storage that cannot serve now (STORAGE_UNAVAILABLE,
 * with the driver error as the cause), a unit worth running again (a serialization failure, a
 * deadlock, a unique key a concurrent unit took first), or text PostgreSQL cannot store.
 */
import { DatabaseError } from 'pg';
import { TasklaneError } from '../../domain/errors.js';

/** Thrown inside a unit when what it read changed under it; the unit is run again from the start. */
export class UnitConflict extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'UnitConflict';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

// node-postgres and pg-pool report a lost or missing connection with these messages.
const DRIVER_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout|after calling end on the pool|connection timeout/i;

const sqlState = (err: unknown): string | undefined => (err instanceof DatabaseError ? err.code : undefined);

/** True when the database cannot serve now: unreachable, gone, shutting down, overloaded, too slow. */
export function isUnavailable(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) {
    return (
      /^(08|53|58|28)/.test(state) || // connection exception, resources, system error, auth
      state === '57P01' || // admin_shutdown
      state === '57P02' || // crash_shutdown
      state === '57P03' || // cannot_connect_now
      state === '57014' || // query_canceled: statement_timeout
      state === '55P03' || // lock_not_available
      state === '3D000' // the database does not exist
    );
  }
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // Connecting to a name with several addresses fails with an AggregateError of each attempt.
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return DRIVER_MESSAGES.test(err.message);
}

/** A connection that may be broken: released to the pool with the error, so the pool drops it. */
export function isConnectionBroken(err: unknown): boolean {
  const state = sqlState(err);
  return state === undefined ? isUnavailable(err) : /^08|^57P0/.test(state);
}

/** Failures that running the unit again resolves: the database rolled it back for another's sake. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof UnitConflict) return true;
  const state = sqlState(err);
  // 23505: a key a concurrent unit inserted first. Run again, the unit reads that row and takes its
  // other branch (CONFLICT, "exists", the idempotent answer), as PostgreSQL's SERIALIZABLE level
  // itself reports such a duplicate as a serialization failure.
  return state === '40001' || state === '40P01' || state === '23505';
}

/** Serialization failures and deadlocks (not duplicates): still failing after the retries means busy. */
export const isContention = (err: unknown): boolean => {
  const state = sqlState(err);
  return err instanceof UnitConflict || state === '40001' || state === '40P01';
};

/**
 * The error a caller sees: unavailable storage (and contention that outlasted the retries) as
 * STORAGE_UNAVAILABLE; text PostgreSQL cannot store (NUL) as VALIDATION_FAILED; anything else
 * (a TasklaneError of the unit, a bug) unchanged.
 */
export function storageError(err: unknown): unknown {
  if (err instanceof TasklaneError) return err;
  if (isUnavailable(err)) {
    return new TasklaneError('STORAGE_UNAVAILABLE', 'The database is not available right now; try again.', {
      cause: err,
    });
  }
  if (isContention(err)) {
    return new TasklaneError('STORAGE_UNAVAILABLE', 'The database is too busy to settle this change; try again.', {
      cause: err,
    });
  }
  const state = sqlState(err);
  // 22021: NUL in text; 22P05: \u0000 in jsonb. PostgreSQL stores neither.
  if (state === '22021' || state === '22P05') {
    return new TasklaneError('VALIDATION_FAILED', 'Text may not contain the NUL character (\\u0000).', { cause: err });
  }
  return err;
}

export const closedError = (): TasklaneError => new TasklaneError('STORAGE_UNAVAILABLE', 'The store is closed.');
