/**
 * The conformance suites on PostgreSQL, each test on a schema of its own, and the record cache
 * with two stores on one schema. What only PostgreSQL shows (several nodes, outages, migrations,
 * encoding) is in test/storage/postgres/. Runs when TASKLANE_TEST_PG_URL names a server (e.g.
 * postgres://postgres@127.0.0.1:5432/postgres); skipped, loudly, otherwise.
 */
import { pgSuite } from '../helpers/pg.js';
import { recordCacheCoherenceSuite } from './record-cache-coherence.js';
import { storeConformanceSuite } from './store-conformance.js';
import { workerConformanceSuite } from './worker-conformance.js';

pgSuite('conformance', (fresh) => {
  storeConformanceSuite('postgres', () => fresh());
  workerConformanceSuite('postgres', () => fresh());
  recordCacheCoherenceSuite('postgres, two stores on one schema', async () => {
    const a = await fresh();
    const b = await fresh({ schema: a.schema });
    return {
      a: a.store,
      b: b.store,
      cleanup: async () => {
        await b.cleanup();
        await a.cleanup();
      },
    };
  });
});
