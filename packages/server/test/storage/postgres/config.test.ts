/**
 * The PostgreSQL store's configuration: the database's clock, and database URLs.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import { postgresOptions } from '../../../src/storage/open-store.js';
import { createPostgresStore } from '../../../src/storage/postgres/pg-store.js';
import { pgSuite } from '../../helpers/pg.js';

pgSuite('config', (fresh) => {
  describe('postgres: configuration', () => {
    it('tx.now is the database clock when no clock is given', async () => {
      const schema = fresh.newSchema();
      const store = createPostgresStore({ url: fresh.url, schema });
      try {
        await store.migrate();
        const before = Date.now();
        const [r, w] = [await store.read(async (tx) => tx.now), await store.write(async (tx) => tx.now)];
        const after = Date.now();
        for (const now of [r, w]) {
          expect(Number.isInteger(now)).toBe(true);
          expect(now).toBeGreaterThanOrEqual(before - 1_000);
          expect(now).toBeLessThanOrEqual(after + 1_000);
        }
        expect(store.capabilities).toEqual({ backend: 'postgres', multiNode: true });
      } finally {
        await store.close();
      }
    });

    it('database URLs: ?schema= and ?pool= are read and left out of the driver URL', () => {
      expect(postgresOptions('postgres://u:p%40ss@db:5432/app?schema=tl_x&pool=3&sslmode=disable')).toEqual({
        url: 'postgres://u:p%40ss@db:5432/app?sslmode=disable',
        schema: 'tl_x',
        poolSize: 3,
      });
      expect(postgresOptions('postgresql://db/app')).toEqual({ url: 'postgresql://db/app' });
      expect(() => postgresOptions('postgres://db/app?pool=0')).toThrow(/pool/);
      expect(() => createPostgresStore({ url: 'postgres://db/app', schema: 'Bad-Name' })).toThrow(/schema/);
    });
  });
});
