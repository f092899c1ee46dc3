/** A fresh PostgreSQL database per system and run, dropped afterwards (with whatever still holds it). */
import pg from 'pg';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(server: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `name` must be a plain identifier (lower case, digits, underscores): it is spliced into SQL. */
export async function createDatabase(server: string, name: string): Promise<BenchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await admin(server, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return {
    name,
    url: `${server}/${name}`,
    drop: () => admin(server, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** Runs one query on `url` with a short-lived connection. */
export async function queryOnce<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Polls `count()` every few ms until it says `done`; for the systems whose workers cannot tell. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`not settled within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** What PostgreSQL counted for one database over its whole life (it is fresh per system and run). */
export interface PgDatabaseStats {
  transactions: number;
  rowsInserted: number;
  rowsUpdated: number;
  /** Updates that touched no index (heap-only tuples): the cheap kind. */
  rowsHotUpdated: number;
  rowsDeleted: number;
  /** Per table (top 6 by rows written): inserted, updated (of which HOT), deleted. */
  tables: Record<string, { inserted: number; updated: number; hotUpdated: number; deleted: number }>;
}

/**
 * Reads the counters of `database`. Backends flush their counters when they exit (and otherwise
 * only every so often), so call this after every client of the database has disconnected.
 */
export async function pgDatabaseStats(server: string, database: string): Promise<PgDatabaseStats> {
  const [d] = await queryOnce<Record<string, string>>(
    `${server}/${database}`,
    `SELECT xact_commit + xact_rollback AS transactions, tup_inserted, tup_updated, tup_deleted
       FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  const tables = await queryOnce<Record<string, string>>(
    `${server}/${database}`,
    `SELECT schemaname || '.' || relname AS name, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del
       FROM pg_stat_user_tables ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 6`,
  );
  const [all] = await queryOnce<{ hot: string }>(
    `${server}/${database}`,
    'SELECT coalesce(sum(n_tup_hot_upd), 0) AS hot FROM pg_stat_user_tables',
  );
  const hot = Number(all?.hot ?? 0);
  return {
    transactions: Number(d?.transactions ?? 0),
    rowsInserted: Number(d?.tup_inserted ?? 0),
    rowsUpdated: Number(d?.tup_updated ?? 0),
    rowsHotUpdated: hot,
    rowsDeleted: Number(d?.tup_deleted ?? 0),
    tables: Object.fromEntries(
      tables.map((t) => [
        t.name,
        {
          inserted: Number(t.n_tup_ins),
          updated: Number(t.n_tup_upd),
          hotUpdated: Number(t.n_tup_hot_upd),
          deleted: Number(t.n_tup_del),
        },
      ]),
    ),
  };
}
