/**
 * tasklane_storage_errors_total counts every read that reaches the database, whoever makes it: the
 * services, the /metrics census of its own gauges, and the webhook outbox (its own part of the store).
 * A real SQLite store whose `read` and outbox backlog fail as a broken disk would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { Metrics } from '../../src/service/metrics/metrics.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { Scrape } from '../helpers/metrics-text.js';

const dirs: string[] = [];
const stores: TaskStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const diskGone = () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error'));

it('counts the census read and the outbox backlog read when storage fails, each under its operation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-metrics-errors-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const real = createSqliteStore({ path: join(dir, 'tasklane.db'), clock });
  stores.push(real);
  await real.migrate();
  // The same store, but reads and the outbox's backlog fail.
  const outbox = new Proxy(real.webhooks, {
    get: (target, p) => (p === 'countPendingDeliveries' ? diskGone : Reflect.get(target, p, target)),
  });
  const broken = new Proxy(real, {
    get: (target, p) => {
      if (p === 'read') return diskGone;
      if (p === 'webhooks') return outbox;
      const value: unknown = Reflect.get(target, p, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  const metrics = new Metrics(broken, { clock });
  const store = metrics.watch();
  metrics.sources.webhookBacklog = () => store.webhooks.countPendingDeliveries();
  // A scrape renders its counters while the gauges still read: the second shows the first's failures.
  await metrics.render();
  const scrape = new Scrape((await metrics.render()).body);
  // One failed census read (the gauges keep their last figures) and one failed backlog read.
  expect(scrape.value('tasklane_storage_errors_total', { operation: 'read' })).toBe(1);
  expect(scrape.value('tasklane_storage_errors_total', { operation: 'webhooks' })).toBe(1);
  expect(scrape.value('tasklane_storage_errors_total', { operation: 'write' })).toBe(0);
});
