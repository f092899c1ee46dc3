/**
 * Opens the store a database URL names: `sqlite:PATH` (embedded), or `postgres://…` /
 * `postgresql://…` (optionally `?schema=NAME&pool=N`; other parameters go to the driver).
 */
import type { Clock } from '../domain/clock.js';
import { createPostgresStore, type PostgresStoreOptions } from './postgres/pg-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { TaskStore } from './task-store.js';

export interface OpenStoreOptions {
  /** PostgreSQL pool size and schema; they win over `?pool=` and `?schema=` in the URL. */
  pool?: number | undefined;
  schema?: string | undefined;
}

export function openStore(databaseUrl: string, clock: Clock, opts: OpenStoreOptions = {}): TaskStore {
  const path = sqlitePath(databaseUrl);
  if (path !== null) {
    if (path === '') throw new Error('sqlite: needs a path, e.g. sqlite:./data/tasklane.db');
    return createSqliteStore({ path, clock });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // No clock: every node takes its time from the database, one clock for all (SPEC §5).
    const pg = postgresOptions(databaseUrl);
    if (opts.pool !== undefined) pg.poolSize = opts.pool;
    if (opts.schema !== undefined) pg.schema = opts.schema;
    return createPostgresStore(pg);
  }
  throw new Error(`Unknown database URL '${databaseUrl}': use sqlite:PATH or postgres://USER@HOST/DATABASE.`);
}

/** The file of a `sqlite:PATH` URL (`sqlite:///abs` is `/abs`), or null for another database. */
export function sqlitePath(databaseUrl: string): string | null {
  return databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : null;
}

/** Tasklane's own parameters (`schema`, `pool`) out of the URL; the rest stays for the driver. */
export function postgresOptions(databaseUrl: string): PostgresStoreOptions {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(`Invalid PostgreSQL URL '${databaseUrl}'.`);
  }
  const opts: PostgresStoreOptions = { url: databaseUrl };
  const schema = url.searchParams.get('schema');
  const pool = url.searchParams.get('pool');
  if (schema !== null) opts.schema = schema;
  if (pool !== null) {
    const n = Number(pool);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new Error(`pool=${pool} in the database URL must be an integer from 1 to 1000.`);
    opts.poolSize = n;
  }
  if (schema !== null || pool !== null) {
    url.searchParams.delete('schema');
    url.searchParams.delete('pool');
    opts.url = url.toString();
  }
  return opts;
}
