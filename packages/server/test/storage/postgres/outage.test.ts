/**
 * A PostgreSQL that is not there, too slow, or drops the connection: STORAGE_UNAVAILABLE in time,
 * and the store goes on.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../../src/storage/postgres/pg-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A } from '../../helpers/task-factory.js';

pgSuite('outage', (fresh) => {
  describe('postgres: a database that is not there', () => {
    it('answers STORAGE_UNAVAILABLE within 5 s (closed port)', async () => {
      const store = createPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/postgres', schema: 'tl_nowhere' });
      const started = Date.now();
      try {
        const outcomes = await Promise.allSettled([
          store.ping(),
          store.migrate(),
          store.read((tx) => tx.countOrgs()),
          store.write((tx) => tx.countOrgs()),
        ]);
        for (const o of outcomes) {
          expect(o.status).toBe('rejected');
          expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
        }
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await store.close();
      }
    });

    it('a statement past statementTimeoutMs answers STORAGE_UNAVAILABLE, and the store goes on', async () => {
      const { store, cleanup, schema } = await fresh({ statementTimeoutMs: 200 });
      try {
        const started = Date.now();
        // Hold the type lock in one unit; another waiting for it runs into the statement timeout.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = store.write(async (tx) => {
          await tx.lockType(ORG_A, 'email.send');
          locked();
          await gate;
        });
        await isLocked;
        await expect(store.write((tx) => tx.lockType(ORG_A, 'email.send'))).rejects.toMatchObject({
          code: 'STORAGE_UNAVAILABLE',
        });
        expect(Date.now() - started).toBeLessThan(5_000);
        release();
        await holder;
        await expect(store.write((tx) => tx.lockType(ORG_A, 'email.send'))).resolves.toBeNull();
        expect(schema).toMatch(/^tl_/);
      } finally {
        await cleanup();
      }
    });

    it('a unit whose connection is killed answers STORAGE_UNAVAILABLE; the next unit works', async () => {
      const { store, cleanup, schema } = await fresh();
      try {
        await insertOrgs(store);
        const killed = store.write(async (tx) => {
          await fresh.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'",
            [`tasklane/${schema}`],
          );
          return tx.countOrgs();
        });
        await expect(killed).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
        expect(await store.read((tx) => tx.countOrgs())).toBe(2);
      } finally {
        await cleanup();
      }
    });
  });
});
