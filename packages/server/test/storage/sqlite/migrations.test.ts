/** SQLite migrations: an old database carried over, and one newer than the code refused. */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { DatabaseTooNewError, loadMigrations } from '../../../src/storage/migrations.js';
import { TASK_COLUMNS, taskValues } from '../../../src/storage/sqlite/rows.js';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.js';
import { SQLITE_MIGRATIONS_DIR as MIGRATIONS_DIR, tempDir } from '../../helpers/sqlite.js';
import { ORG_A, ORG_B, T0, makeTask, uuidV7 } from '../../helpers/task-factory.js';

describe('sqlite: migrations', () => {
  it('006 carries the per-task claim log of 005 over as counts, and rate limits keep counting them', async () => {
    const dir = tempDir();
    const path = join(dir, 'old.db');
    try {
      // A database as a Tasklane at schema version 5 left it, with claims logged one row per task.
      const old = new Database(path);
      old.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const m of loadMigrations(MIGRATIONS_DIR).slice(0, 5)) {
        old.exec(m.sql);
        old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      const log = old.prepare('INSERT INTO claims (org_id, type, time, task_id) VALUES (?, ?, ?, ?)');
      for (const [org, type, time] of [
        [ORG_A, 'email.send', T0],
        [ORG_A, 'email.send', T0],
        [ORG_A, 'email.send', T0 + 5],
        [ORG_A, 'pdf.render', T0],
        [ORG_B, 'email.send', T0],
      ] as const)
        log.run(org, type, time, uuidV7(time));
      old.close();

      const clock = new ManualClock(T0 + 10);
      const store = createSqliteStore({ path, clock });
      try {
        await store.migrate();
        await store.read(async (tx) => {
          expect(await tx.countClaims(ORG_A, T0)).toBe(4);
          expect(await tx.countClaims(ORG_A, T0, 'email.send')).toBe(3);
          expect(await tx.countClaims(ORG_A, T0 + 1, 'email.send')).toBe(1);
          expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 1)).toBe(T0 + 5);
          expect(await tx.countClaims(ORG_B, T0)).toBe(1);
        });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("008 gives the events already written their task's type, list and project; a deleted task's stay unknown", async () => {
    const dir = tempDir();
    const path = join(dir, 'old.db');
    try {
      // A database as a Tasklane at schema version 7 left it: a task, and events of it and of a task deleted since.
      const old = new Database(path);
      old.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      const before = loadMigrations(MIGRATIONS_DIR).filter((m) => m.name !== 'event_streams' && m.version < 8);
      expect(before).toHaveLength(7);
      for (const m of before) {
        old.exec(m.sql);
        old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      old.prepare('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, 0)').run(ORG_A, 'A');
      const t = makeTask({ id: uuidV7(1), type: 'pdf.render', listId: 'list-1', projectId: 'p1' });
      // The columns of schema 7: every one but those added later (claimed_at, 009).
      const kept = TASK_COLUMNS.map((c, i) => [c, i] as const).filter(([c]) => c !== 'claimed_at');
      const values = taskValues(t);
      old
        .prepare(`INSERT INTO tasks (${kept.map(([c]) => c).join(', ')}) VALUES (${kept.map(() => '?').join(', ')})`)
        .run(...kept.map(([, i]) => values[i]));
      const event = old.prepare('INSERT INTO events (org_id, task_id, type, time, data) VALUES (?, ?, ?, ?, ?)');
      event.run(ORG_A, t.id, 'task.created', T0, '{"status":"queued","version":1}');
      event.run(ORG_A, uuidV7(2), 'task.deleted', T0, '{"version":5}');
      old.close();

      const store = createSqliteStore({ path, clock: new ManualClock(T0 + 10) });
      try {
        await store.migrate();
        const events = await store.read((tx) => tx.listEvents(ORG_A, 0, 10));
        expect(events.map((e) => [e.taskId, e.taskType, e.listId, e.projectId])).toEqual([
          [t.id, 'pdf.render', 'list-1', 'p1'],
          [uuidV7(2), '', null, null],
        ]);
        const filtered = await store.read((tx) => tx.listEvents(ORG_A, 0, 10, { listId: 'list-1' }));
        expect(filtered.map((e) => e.taskId)).toEqual([t.id]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a database newer than the code refuses to start (DatabaseTooNewError), and is left as it was', async () => {
    const dir = tempDir();
    const path = join(dir, 'newer.db');
    try {
      const current = createSqliteStore({ path, clock: new ManualClock() });
      await current.migrate();
      await current.close();
      const db = new Database(path);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)").run();
      db.close();

      const store = createSqliteStore({ path, clock: new ManualClock() });
      try {
        await expect(store.migrate()).rejects.toBeInstanceOf(DatabaseTooNewError);
        // Refused inside its transaction: nothing applied, nothing recorded, the lock let go.
        await expect(store.write((tx) => tx.countOrgs())).resolves.toBe(0);
      } finally {
        await store.close();
      }
      const after = new Database(path, { readonly: true });
      try {
        expect(after.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 99 });
      } finally {
        after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
