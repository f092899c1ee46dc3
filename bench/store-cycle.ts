/**
 * In-process cost of one task's life through the services, without HTTP: batch create, claim in
 * batches, complete in batched reports. Prints µs per task (wall time) for each phase. A quick, steady
 * probe of the storage and service layers (the e2e benchmark measures the whole system).
 *
 *   npm run build && npx tsx bench/store-cycle.ts [--tasks=20000] [--rounds=5] [--database=sqlite|postgres://…]
 *     [--input-bytes=0]   each task's input: {} (0), or a prompt of about that many characters
 *
 * On PostgreSQL the wall time includes waiting for the database's answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { systemClock } from '../packages/server/dist/domain/clock.js';
import { createServices } from '../packages/server/dist/service/services.js';
import { openStore } from '../packages/server/dist/storage/open-store.js';
import { readFlags } from './lib/options.js';

const flags = readFlags(process.argv.slice(2));
const TASKS = Number(flags.get('tasks') ?? 20_000);
const ROUNDS = Number(flags.get('rounds') ?? 5);
const DB = flags.get('database') ?? 'sqlite';
const INPUT_BYTES = Number(flags.get('input-bytes') ?? 0);
// Text as a prompt has it: words, quotes and line breaks, which JSON escapes.
const prompt = 'Scan the "staging" host,\nthen report.\t'.repeat(Math.ceil(INPUT_BYTES / 37)).slice(0, INPUT_BYTES);
const input = INPUT_BYTES === 0 ? {} : { prompt, options: { depth: 3, tags: ['a', 'b'] } };

const dir = mkdtempSync(join(os.tmpdir(), 'tasklane-cycle-'));
// PostgreSQL: a schema of this run's own, dropped at the end.
const schema = `tlcycle_${process.pid}_${Date.now()}`;
const url = DB === 'sqlite' ? `sqlite:${join(dir, 'tasklane.db')}` : DB;
const store = openStore(url, systemClock, DB === 'sqlite' ? {} : { schema });
await store.migrate();
const s = createServices(store, { clock: systemClock });
const orgId = 'default';
await store.write(async (tx) => {
  if ((await tx.getOrg(orgId)) === null) await tx.insertOrg({ id: orgId, name: 'bench', createdAt: Date.now() });
});
const caller = { orgId, keyName: 'bench' };

// Wall time of this (the only busy) thread: what bounds a server's throughput. Process CPU would
// also count the SQLite checkpoint thread, which runs beside it.
const now = () => performance.now() * 1000;

interface Phases {
  create: number;
  claim: number;
  complete: number;
  total: number;
}

async function round(n: number): Promise<Phases> {
  const t = { create: 0, claim: 0, complete: 0 };
  let at = now();
  for (let i = 0; i < n; i += 1000) {
    await s.tasks.createBatch(caller, {
      tasks: Array.from({ length: Math.min(1000, n - i) }, () => ({ type: 'bench.noop', input })),
    });
  }
  t.create = now() - at;
  let done = 0;
  while (done < n) {
    at = now();
    const views = await s.workers.claim(orgId, { types: ['bench.noop'], workerId: 'w', limit: 100, waitMs: 0 });
    t.claim += now() - at;
    at = now();
    const results = await s.workers.reports(
      orgId,
      views.map((v) => ({
        taskId: v.task.id,
        action: 'complete' as const,
        leaseId: v.task.lease?.id ?? '',
        result: null,
      })),
    );
    t.complete += now() - at;
    done += results.filter((r) => r.ok).length;
  }
  return {
    create: t.create / n,
    claim: t.claim / n,
    complete: t.complete / n,
    total: (t.create + t.claim + t.complete) / n,
  };
}

await round(2000);
const rows: Phases[] = [];
for (let r = 0; r < ROUNDS; r++) rows.push(await round(TASKS));
const med = (k: keyof Phases) => rows.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)] ?? 0;
console.log(
  `${DB.split(':')[0]}: µs per task (wall) (median of ${ROUNDS} × ${TASKS}): create ${med('create').toFixed(1)}, claim ${med('claim').toFixed(1)}, complete ${med('complete').toFixed(1)}, total ${med('total').toFixed(1)}`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
if (DB !== 'sqlite') {
  const admin = new pg.Client({ connectionString: DB });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
