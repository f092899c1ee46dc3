/**
 * PostgreSQL migrations: nodes starting together migrate a schema once (the advisory lock), and a
 * schema newer than the code refuses to start.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DatabaseTooNewError, loadMigrations } from '../../../src/storage/migrations.js';
import { PG_MIGRATIONS_DIR } from '../../../src/storage/postgres/pg-migrator.js';
import { createPostgresStore } from '../../../src/storage/postgres/pg-store.js';
import { TASK_COLUMNS, taskParams } from '../../../src/storage/postgres/rows.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A, T0, makeTask, uuidV7 } from '../../helpers/task-factory.js';

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

    it("006 gives the events already written their task's type, list and project; a deleted task's stay unknown", async () => {
      const schema = fresh.newSchema();
      // A schema as a Tasklane at version 5 left it: a task, and events of it and of a task deleted since.
      const old = new pg.Client({ connectionString: fresh.url, options: `-c search_path=${schema}` });
      await old.connect();
      const t = makeTask({ id: uuidV7(1), type: 'pdf.render', listId: 'list-1', projectId: 'p1' });
      try {
        await old.query(`CREATE SCHEMA ${schema}`);
        await old.query(
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        );
        const before = loadMigrations(PG_MIGRATIONS_DIR).filter((m) => m.version < 6);
        expect(before.map((m) => m.name)).not.toContain('event_streams');
        for (const m of before) {
          await old.query(m.sql);
          await old.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
        }
        await old.query("INSERT INTO orgs (id, name, created_at) VALUES ($1, 'A', 0)", [ORG_A]);
        // The columns of schema 5: every one but those added later (claimed_at, 007).
        const kept = TASK_COLUMNS.map((c, i) => [c, i] as const).filter(([c]) => c !== 'claimed_at');
        const values = taskParams(t);
        const params = kept.map((_, i) => `$${i + 1}`).join(', ');
        await old.query(
          `INSERT INTO tasks (${kept.map(([c]) => c).join(', ')}) VALUES (${params})`,
          kept.map(([, i]) => values[i]),
        );
        await old.query('INSERT INTO event_counters VALUES ($1, 2)', [ORG_A]);
        const event = 'INSERT INTO events (org_id, id, task_id, type, time, data) VALUES ($1, $2, $3, $4, $5, $6)';
        await old.query(event, [ORG_A, 1, t.id, 'task.created', T0, '{"status":"queued","version":1}']);
        await old.query(event, [ORG_A, 2, uuidV7(2), 'task.deleted', T0, '{"version":5}']);
      } finally {
        await old.end();
      }
      const { store, cleanup } = await fresh({ schema });
      try {
        const events = await store.read((tx) => tx.listEvents(ORG_A, 0, 10));
        expect(events.map((e) => [e.id, e.taskType, e.listId, e.projectId])).toEqual([
          [1, 'pdf.render', 'list-1', 'p1'],
          [2, '', null, null],
        ]);
        expect(await store.read((tx) => tx.eventBounds(ORG_A))).toEqual({ horizon: 0, lastId: 2 });
      } finally {
        await cleanup();
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
