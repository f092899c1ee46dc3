/**
 * The worker services suite and the store's worker-method suite on SQLite: a temp file per test
 * (the reader and writer connections apart, as in production), and the store methods on ':memory:' too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { storeWorkerMethodsSuite } from './store-worker-methods.js';
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

async function memoryStore() {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: ':memory:', clock });
  await store.migrate();
  return { store, clock, cleanup: () => store.close() };
}

workerConformanceSuite('sqlite (temp file)', tempFileStore);
storeWorkerMethodsSuite('sqlite (temp file)', tempFileStore);
storeWorkerMethodsSuite('sqlite (:memory:)', memoryStore);
