/**
 * The conformance suite on SQLite, on a temp file (the reader and writer connections apart, as in
 * production) and on ':memory:', and the record cache with two stores on one file. What only
 * SQLite shows (migrations of old files, the checkpoint thread, two stores sharing a file) is in
 * test/storage/sqlite/.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/sqlite.js';
import { recordCacheCoherenceSuite } from './record-cache-coherence.js';
import { storeConformanceSuite } from './store-conformance.js';

storeConformanceSuite('sqlite (temp file)', async () => {
  const dir = tempDir();
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
});

storeConformanceSuite('sqlite (:memory:)', async () => {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: ':memory:', clock });
  await store.migrate();
  return { store, clock, cleanup: () => store.close() };
});

recordCacheCoherenceSuite('sqlite, two stores on one file', async () => {
  const dir = tempDir();
  const path = join(dir, 'tasklane.db');
  const a = createSqliteStore({ path, clock: new ManualClock() });
  await a.migrate();
  const b = createSqliteStore({ path, clock: new ManualClock() });
  await b.migrate();
  return {
    a,
    b,
    cleanup: async () => {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
