/**
 * PostgreSQL for tests: the server named by TASKLANE_TEST_PG_URL, a fresh schema per store. Schemas
 * of passing tests are dropped when the file ends; a failing test's schema is kept (its name is
 * logged) so the evidence survives.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it, onTestFailed } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/storage/postgres/pg-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from './task-factory.js';

/** The test server's URL, or null when PostgreSQL tests are not to run. */
export function pgUrl(): string | null {
  const url = process.env.TASKLANE_TEST_PG_URL;
  return url === undefined || url === '' ? null : url;
}

const SKIPPED = 'PostgreSQL tests skipped: set TASKLANE_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

/**
 * The PostgreSQL tests of one file: `suite` registers them with a factory of stores on fresh
 * schemas (`tl_<name>_…`, see freshSchema) when TASKLANE_TEST_PG_URL names a server; otherwise
 * the file has one skipped test that says why, and says it loudly.
 */
export function pgSuite(name: string, suite: (fresh: PgStoreFactory) => void): void {
  if (pgUrl() === null) {
    console.warn(SKIPPED);
    describe.skip(SKIPPED, () => {
      it('needs a PostgreSQL server', () => undefined);
    });
    return;
  }
  suite(freshSchema(name));
}

/** Orgs ORG_A and ORG_B, in one unit. */
export const insertOrgs = (store: TaskStore): Promise<void> =>
  store.write(async (tx) => {
    await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
    await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 });
  });

export interface PgStoreUnderTest {
  store: TaskStore;
  clock: ManualClock;
  schema: string;
  cleanup: () => Promise<void>;
}

export interface PgStoreFactory {
  /**
   * A new store (ManualClock, migrated unless `migrate: false`) on a new schema, or on `schema`
   * when given (another node of the same database).
   */
  (
    opts?: { schema?: string; migrate?: boolean; clock?: ManualClock } & Partial<
      Omit<PostgresStoreOptions, 'url' | 'clock'>
    >,
  ): Promise<PgStoreUnderTest>;
  /** A new schema name, dropped at the end unless a test using it failed. Nothing is created yet. */
  newSchema(): string;
  /** The server's URL. */
  url: string;
  /** A plain query on the test server, outside any store (inspecting a schema, killing backends). */
  query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
}

/**
 * Schemas named `tl_<name>_<run>_<n>`, one per store the factory makes (so one per test of a
 * conformance suite). Call it at the top of a test file (it registers the file's cleanup).
 */
export function freshSchema(name: string): PgStoreFactory {
  const url = pgUrl();
  if (url === null) throw new Error('freshSchema needs TASKLANE_TEST_PG_URL');
  const prefix = `tl_${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 20)}_${randomBytes(3).toString('hex')}`;
  const schemas: string[] = [];
  const failed = new Set<string>();
  let n = 0;

  const newSchema = (): string => {
    const schema = `${prefix}_${++n}`;
    schemas.push(schema);
    try {
      // Registered by the test (or beforeEach) running now; outside a test there is none to blame.
      onTestFailed(() => {
        failed.add(schema);
      });
    } catch {
      // not inside a test
    }
    return schema;
  };

  const query = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };

  afterAll(async () => {
    const drop = schemas.filter((s) => !failed.has(s));
    for (const s of failed)
      console.warn(`PostgreSQL schema ${s} kept for a failed test: inspect it, then DROP SCHEMA ${s} CASCADE`);
    if (drop.length === 0) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // One transaction per schema: dropping them all at once runs out of lock slots.
      for (const s of drop) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    } finally {
      await client.end();
    }
  });

  const factory = async (opts: Parameters<PgStoreFactory>[0] = {}): Promise<PgStoreUnderTest> => {
    const { schema = newSchema(), migrate = true, clock = new ManualClock(), ...rest } = opts;
    const store = createPostgresStore({ ...rest, url, schema, clock });
    if (migrate) {
      try {
        await store.migrate();
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    return { store, clock, schema, cleanup: () => store.close() };
  };
  return Object.assign(factory, { newSchema, url, query });
}
