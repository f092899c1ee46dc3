/**
 * The worker services suite on SQLite: a temp file per test (the reader and writer connections
 * apart, as in production). The store's worker methods are part of the store suite (sqlite.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { workerConformanceSuite } from './worker-conformance.js';

async function tempFileStore() {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-worker-'));
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock });
  await store.migrate();
  return {
    store,
    clock,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

workerConformanceSuite('sqlite (temp file)', tempFileStore);
