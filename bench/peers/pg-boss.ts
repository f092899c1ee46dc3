/**
 * pg-boss in the end-to-end benchmark. Jobs are added with `insert` (one statement per 1,000) and
 * worked with `work()` and a `batchSize`. pg-boss has no LISTEN/NOTIFY: each `work()` call is one
 * polling loop that fetches up to `batchSize` jobs, runs the handler on them, completes them (not
 * awaited), and then waits out the rest of its polling interval, whether it found jobs or not.
 * So its throughput is bounded by pollers × batchSize / interval, and its pick-up latency by the
 * interval. We use the shortest interval it accepts (0.5 s). pg-boss recommends no setting, and
 * from one run to the next a setting either reaches its bound or collapses far below it (each
 * fetch sorts every queued job of the queue: its index does not give the order, so its cost grows
 * with the queue's depth): the benchmark measures several settings (`--pgboss-settings`), one row
 * each, and compares against the best. README says more.
 * A completed job stays in the job table with state 'completed' until it is archived.
 */
import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import type { Backend, BenchEnv, Prepared, RunWorker } from '../lib/e2e-types.js';
import { probeOf } from '../lib/e2e-types.js';
import { createDatabase, pgDatabaseStats, pollUntil } from '../lib/pg-admin.js';
import { cpuOfProcesses, postgresBackendsOf } from '../lib/proc-cpu.js';

const QUEUE = 'noop';
const VERSION = (createRequire(import.meta.url)('pg-boss/package.json') as { version: string }).version;
const POLLING_INTERVAL_SECONDS = 0.5;

/** Polling loops (`work()` calls) per worker process, and jobs each fetches at once. */
export interface PgBossSetting {
  pollers: number;
  batch: number;
}

interface WorkerConfig extends PgBossSetting {
  connectionString: string;
}

/** The id of a setting's row, `pgboss-2x500` (e2e-throughput.ts finds the rows by the prefix). */
const pgBossId = (s: PgBossSetting): string => `pgboss-${s.pollers}x${s.batch}`;

export const pgBoss = (setting: PgBossSetting): Backend => ({
  id: pgBossId(setting),
  label: `pg-boss ${VERSION} (${setting.pollers} × ${setting.batch})`,
  storage: 'postgres',
  async prepare(env: BenchEnv): Promise<Prepared> {
    const db = await createDatabase(env.pgServer, `tlbench_${env.stamp}_${pgBossId(setting).replace('-', '_')}`);
    const boss = new PgBoss({ connectionString: db.url });
    boss.on('error', (err: unknown) => env.log(`  [pg-boss] ${String(err)}`));
    try {
      await boss.start();
      await boss.createQueue(QUEUE);
    } catch (err) {
      await boss.stop({ graceful: false }).catch(() => undefined);
      await db.drop();
      throw err;
    }
    const counts = async () => {
      const { rows } = await boss.getDb().executeSql(
        `SELECT count(*) FILTER (WHERE state = 'completed') AS completed,
                  count(*) FILTER (WHERE state < 'completed') AS pending
             FROM pgboss.job WHERE name = $1`,
        [QUEUE],
      );
      const r = rows[0] as { completed: string; pending: string };
      return { completed: Number(r.completed), pending: Number(r.pending) };
    };
    const dbCpu = cpuOfProcesses(postgresBackendsOf(db.name));
    return {
      settings: {
        add: 'insert(), 1,000 jobs a call',
        pollersPerProcess: setting.pollers,
        batchSize: setting.batch,
        pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
        pool: setting.pollers * 2 + 2,
        database: db.name,
      },
      workerModule: new URL(import.meta.url),
      workerConfig: (): WorkerConfig => ({ connectionString: db.url, ...setting }),
      servers: [],
      storageCpuSeconds: () => dbCpu.sample(),
      addBatch: async (size) => {
        await boss.insert(Array.from({ length: size }, () => ({ name: QUEUE, data: {} })));
      },
      addProbe: async (probe) => {
        await boss.send(QUEUE, { probe });
      },
      // The handler returning is not the completion: pg-boss completes after it, without waiting.
      settled: (total) => pollUntil(async () => (await counts()).completed >= total, 60_000),
      check: counts,
      teardown: async () => {
        try {
          await boss.stop({ graceful: false, wait: true, timeout: 5000 });
          return await pgDatabaseStats(env.pgServer, db.name);
        } finally {
          await db.drop();
        }
      },
    };
  },
});

export const runWorker: RunWorker = async (ctx) => {
  const { connectionString, pollers, batch } = ctx.config as WorkerConfig;
  // The parent installed the schema; these instances only work (no maintenance, no cron).
  const boss = new PgBoss({
    connectionString,
    max: pollers * 2 + 2,
    migrate: false,
    supervise: false,
    schedule: false,
  });
  boss.on('error', (err: unknown) => process.stderr.write(`  [pg-boss worker ${ctx.index}] ${String(err)}\n`));
  await boss.start();
  for (let i = 0; i < pollers; i++) {
    await boss.work(
      QUEUE,
      { batchSize: batch, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
      async (jobs: PgBoss.Job<unknown>[]) => {
        for (const job of jobs) {
          const probe = probeOf(job.data);
          if (probe !== null) ctx.probe(probe);
          ctx.handled();
        }
        ctx.completed(jobs.length);
      },
    );
  }
  return { stop: () => boss.stop({ graceful: true, wait: true, timeout: 10_000 }) };
};
