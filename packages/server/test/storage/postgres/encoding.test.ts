/**
 * Values on their way into PostgreSQL: only changed columns written, rows sent as JSON (SQL NULL
 * and JSON null kept apart), text written into statements as literals, and NUL refused.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlLiteral } from '../../../src/storage/postgres/rows.js';
import type { TaskChange } from '../../../src/storage/task-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A, T0, idSequence, makeTask, eventOf } from '../../helpers/task-factory.js';

pgSuite('encoding', (fresh) => {
  describe('postgres: encoding (changed columns, JSON rows, literals, NUL)', () => {
    it('updateTask with the record as read writes the changed columns; the task reads back whole', async () => {
      const { store, cleanup } = await fresh();
      try {
        await insertOrgs(store);
        const t = makeTask({ id: idSequence()(), input: { prompt: 'x'.repeat(10_000) }, metadata: { a: 1 } });
        await store.write((tx) => tx.insertTasks([t]));
        const v2 = { ...t, version: 2, status: 'in_progress' as const, progress: 0.5, metadata: { a: 2 } };
        expect(await store.write((tx) => tx.updateTask(v2, t))).toBe(true);
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(v2);
        // A stale record as read changes nothing.
        expect(await store.write((tx) => tx.updateTask({ ...t, version: 2, title: 'stale' }, t))).toBe(false);
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(v2);
      } finally {
        await cleanup();
      }
    });

    it('rows sent as JSON keep SQL NULL and JSON null apart: a missing error is NULL, a null result is JSON', async () => {
      const { store, schema, cleanup } = await fresh();
      try {
        await insertOrgs(store);
        const next = idSequence();
        const failed = makeTask({
          id: next(),
          error: { code: 'E', message: 'it "broke" \\ here', retryable: false },
          result: null,
        });
        const clean = makeTask({ id: next(), error: null, result: { ok: true } });
        await store.write((tx) => tx.insertTasks([failed, clean]));
        const stored = () =>
          fresh.query<{ id: string; error_is_null: boolean; result: string }>(
            `SELECT id, error IS NULL AS error_is_null, result::text AS result FROM ${schema}.tasks ORDER BY id`,
          );
        expect(await stored()).toEqual([
          { id: failed.id, error_is_null: false, result: 'null' },
          { id: clean.id, error_is_null: true, result: '{"ok": true}' },
        ]);
        // updateTasks (the claim's and the reports' path) clears one error and sets the other.
        await store.write((tx) =>
          tx.updateTasks([
            { task: { ...failed, version: failed.version + 1, error: null, result: { ok: 1 } }, previous: failed },
            {
              task: {
                ...clean,
                version: clean.version + 1,
                error: { code: 'X', message: 'x', retryable: false },
                result: null,
              },
              previous: clean,
            },
          ]),
        );
        expect(await stored()).toEqual([
          { id: failed.id, error_is_null: true, result: '{"ok": 1}' },
          { id: clean.id, error_is_null: false, result: 'null' },
        ]);
      } finally {
        await cleanup();
      }
    });

    it('sqlLiteral: text reads back as itself whatever standard_conforming_strings says; NUL is refused', async () => {
      const texts = [
        'plain',
        "it's",
        'back\\slash',
        "both \\' and ''",
        "E'x'",
        '$1 $$ $q$',
        'line\nbreak \u2028 ünï 🚀',
        '',
      ];
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        for (const setting of ['on', 'off']) {
          await client.query(`SET standard_conforming_strings = ${setting}`);
          const { rows } = await client.query<{ t: string }>(
            texts.map((t, n) => `SELECT ${n} AS n, ${sqlLiteral(t)} AS t`).join(' UNION ALL ') + ' ORDER BY n',
          );
          expect(rows.map((r) => r.t)).toEqual(texts);
        }
      } finally {
        await client.end();
      }
      expect(() => sqlLiteral('a\u0000b')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    });

    it('events of an org whose id needs escaping are written with the COMMIT and listed back', async () => {
      const { store, cleanup } = await fresh();
      try {
        const orgId = "o'rg\\x";
        const t = makeTask({ id: idSequence()(), orgId });
        await store.write(async (tx) => {
          await tx.insertOrg({ id: orgId, name: 'odd', createdAt: T0 });
          await tx.insertTasks([t]);
          await tx.appendEvents([eventOf(t, 'task.created', { note: 'it\'s \\ "x"' })]);
        });
        const events = await store.read((tx) => tx.listEvents(orgId, 0, 10));
        expect(events.map((e) => [e.orgId, e.taskId, e.data])).toEqual([[orgId, t.id, { note: 'it\'s \\ "x"' }]]);
      } finally {
        await cleanup();
      }
    });

    it('an event the database refuses at COMMIT rolls the whole unit back and announces nothing', async () => {
      const { store, cleanup } = await fresh();
      try {
        await insertOrgs(store);
        const t = makeTask({ id: idSequence()() });
        await store.write((tx) => tx.insertTasks([t]));
        const changes: TaskChange[] = [];
        const stop = store.subscribe((c) => changes.push(c));
        // \u0000 survives JSON (as an escape) but not jsonb: the events statement fails inside the
        // COMMIT's query, after the update it would have committed with.
        await expect(
          store.write(async (tx) => {
            expect(await tx.updateTask({ ...t, version: t.version + 1, title: 'changed' })).toBe(true);
            await tx.appendEvents([eventOf(t, 'task.updated', { bad: 'a\u0000b' })]);
          }),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        stop();
        expect(await store.read((tx) => tx.getTask(ORG_A, t.id))).toEqual(t);
        expect(await store.read((tx) => tx.listEvents(ORG_A, 0, 10))).toEqual([]);
        expect(changes).toEqual([]);
        // The store goes on.
        expect(await store.write((tx) => tx.updateTask({ ...t, version: t.version + 1, title: 'ok' }))).toBe(true);
      } finally {
        await cleanup();
      }
    });

    it('text PostgreSQL cannot store (NUL) answers VALIDATION_FAILED', async () => {
      const { store, cleanup } = await fresh();
      try {
        await insertOrgs(store);
        await expect(
          store.write((tx) => tx.insertTasks([makeTask({ id: idSequence()(), title: 'a\u0000b' })])),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await expect(
          store.write((tx) => tx.insertTasks([makeTask({ id: idSequence()(), input: { s: 'a\u0000b' } })])),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      } finally {
        await cleanup();
      }
    });
  });
});
