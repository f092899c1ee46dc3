/**
 * PostgreSQL migrations: nodes starting together migrate a schema once (the advisory lock), and a
 * schema newer than the code refuses to start.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import { DatabaseTooNewError, loadMigrations } from '../../../src/storage/migrations.js';
import { PG_MIGRATIONS_DIR } from '../../../src/storage/postgres/pg-migrator.js';
import { createPostgresStore } from '../../../src/storage/postgres/pg-store.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';

pgSuite('migrations', (fresh) => {
  describe('postgres: migrations', () => {
    it('ten stores migrating one fresh schema at once: every one succeeds, each migration applied once', async () => {
      const schema = fresh.newSchema();
      const stores = Array.from({ length: 10 }, () => createPostgresStore({ url: fresh.url, schema, poolSize: 2 }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const applied = await fresh.query<{ version: number; n: string }>(
          `SELECT version, count(*) AS n FROM ${schema}.schema_migrations GROUP BY version ORDER BY version`,
        );
        const files = loadMigrations(PG_MIGRATIONS_DIR);
        expect(files.length).toBeGreaterThanOrEqual(4);
        expect(applied.map((r) => [r.version, Number(r.n)])).toEqual(files.map((m) => [m.version, 1]));
        // And the schema works from any of them.
        await insertOrgs(stores[3] as TaskStore);
        expect(await (stores[7] as TaskStore).read((tx) => tx.countOrgs())).toBe(2);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('a schema newer than the code refuses to start (DatabaseTooNewError)', async () => {
      const { store, schema, cleanup } = await fresh();
      try {
        await fresh.query(
          `INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`,
        );
        await expect(store.migrate()).rejects.toBeInstanceOf(DatabaseTooNewError);
      } finally {
        await cleanup();
      }
    });
  });
});
