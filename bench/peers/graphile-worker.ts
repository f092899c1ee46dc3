/**
 * graphile-worker in the end-to-end benchmark, with the settings of its own performance page
 * (https://worker.graphile.org/docs/performance): concurrentJobs 24, maxPoolSize 25, a local
 * queue of 500, batched completions and failures (delay 0). Jobs are added with WorkerUtils'
 * `addJobs` (one `add_jobs` call per 1,000), and run by `run()` in each worker process.
 * A completed job is deleted, so "done" is: the job table is empty.
 */
import { createRequire } from 'node:module';
import { Logger, makeWorkerUtils, run, type WorkerUtils } from 'graphile-worker';
import type { Backend, BenchEnv, Prepared, RunWorker } from '../lib/e2e-types.js';
import { probeOf } from '../lib/e2e-types.js';
import { createDatabase, pgDatabaseStats, pollUntil } from '../lib/pg-admin.js';
import { cpuOfProcesses, postgresBackendsOf } from '../lib/proc-cpu.js';

const TASK = 'noop';
const VERSION = (createRequire(import.meta.url)('graphile-worker/package.json') as { version: string }).version;
/** The performance page's settings, per worker process. */
const SETTINGS = {
  concurrentJobs: 24,
  maxPoolSize: 25,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};
const quiet = new Logger(() => () => undefined);

export const graphileWorker: Backend = {
  id: 'graphile',
  label: `graphile-worker ${VERSION}`,
  storage: 'postgres',
  async prepare(env: BenchEnv): Promise<Prepared> {
    const db = await createDatabase(env.pgServer, `tlbench_${env.stamp}_graphile`);
    let utils: WorkerUtils | null = null;
    try {
      utils = await makeWorkerUtils({ connectionString: db.url, logger: quiet });
      await utils.migrate();
    } catch (err) {
      await utils?.release();
      await db.drop();
      throw err;
    }
    const u = utils;
    const pending = async () =>
      Number(
        (await u.withPgClient((c) => c.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker._private_jobs')))
          .rows[0]?.n,
      );
    const dbCpu = cpuOfProcesses(postgresBackendsOf(db.name));
    return {
      settings: {
        ...SETTINGS,
        add: 'WorkerUtils.addJobs, 1,000 jobs a call',
        env: 'NO_LOG_SUCCESS=1 (no log line per job)',
        database: db.name,
      },
      workerModule: new URL(import.meta.url),
      workerConfig: () => ({ connectionString: db.url }),
      // Read when graphile-worker loads; without it, it formats a log line for every job.
      workerEnv: { NO_LOG_SUCCESS: '1' },
      servers: [],
      storageCpuSeconds: () => dbCpu.sample(),
      addBatch: async (size) => {
        await u.addJobs(Array.from({ length: size }, () => ({ identifier: TASK, payload: {} })));
      },
      addProbe: async (probe) => {
        await u.addJob(TASK, { probe });
      },
      // Workers see a job finish before its (batched) completion is written: wait for the table.
      settled: () => pollUntil(async () => (await pending()) === 0, 60_000),
      check: async () => ({ completed: null, pending: await pending() }),
      teardown: async () => {
        try {
          await u.release();
          return await pgDatabaseStats(env.pgServer, db.name);
        } finally {
          await db.drop();
        }
      },
    };
  },
};

export const runWorker: RunWorker = async (ctx) => {
  const { connectionString } = ctx.config as { connectionString: string };
  const runner = await run({
    connectionString,
    concurrency: SETTINGS.concurrentJobs,
    maxPoolSize: SETTINGS.maxPoolSize,
    noHandleSignals: true,
    logger: quiet,
    preset: {
      worker: {
        localQueue: SETTINGS.localQueue,
        completeJobBatchDelay: SETTINGS.completeJobBatchDelay,
        failJobBatchDelay: SETTINGS.failJobBatchDelay,
      },
    },
    taskList: {
      [TASK]: async (payload) => {
        const probe = probeOf(payload);
        if (probe !== null) ctx.probe(probe);
        ctx.handled();
      },
    },
  });
  // `job:complete` fires once the completion is queued (batched), not written: the parent's
  // `settled` check waits for the database.
  runner.events.on('job:complete', () => ctx.completed(1));
  return { stop: () => runner.stop() };
};
