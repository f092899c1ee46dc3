/** The bulk action suite on SQLite (a temp file) and, when TASKLANE_TEST_PG_URL is set, PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import { bulkSuite } from './bulk-suite.js';

bulkSuite('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-bulk-'));
  const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock: systemClock });
  await store.migrate();
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const SKIPPED =
  'PostgreSQL bulk tests skipped: set TASKLANE_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)';
if (pgUrl() === null) {
  console.warn(SKIPPED);
  describe.skip(SKIPPED, () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  const fresh = freshSchema('bulk');
  bulkSuite('postgres', async () => {
    const { store, cleanup } = await fresh();
    return { store, cleanup };
  });
}
