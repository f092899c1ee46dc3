/**
 * End-to-end throughput: N no-op tasks created in batches, claimed in batches by worker processes,
 * completed; for Tasklane (SQLite; PostgreSQL with 1, 2 and 3 nodes; everything over HTTP with the
 * SDK) and, in the same run, graphile-worker, pg-boss and BullMQ with their own APIs. Also the
 * create-to-pick-up latency of a waiting worker. Prints a table with ratios and writes
 * bench/results/e2e-throughput-<time>.json. Setup and figures: README.md.
 *
 *   npm run build && npx tsx bench/e2e-throughput.ts [--tasks=20000 --backends=sqlite,pg1,… --workers=2 …]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bullmq } from './peers/bullmq.js';
import { graphileWorker } from './peers/graphile-worker.js';
import { pgBoss } from './peers/pg-boss.js';
import { readE2eOptions, type BackendId, type E2eOptions } from './lib/e2e-options.js';
import { tasklaneBackend } from './lib/e2e-tasklane.js';
import { hrNow, type Backend, type BenchEnv, type Prepared } from './lib/e2e-types.js';
import { startWorkers, type WorkerPool } from './lib/e2e-workers.js';
import { coresBetween, machineCpu, waitForQuiet } from './lib/machine-cpu.js';
import { runInOwnSchedulingGroup } from './lib/priority.js';
import type { PgDatabaseStats } from './lib/pg-admin.js';
import { startWireCounter, type WireCounter } from './lib/pg-wire-counter.js';
import { pidCpuSeconds } from './lib/proc-cpu.js';
import { formatProfileSummary, summarizeProfile, type ProfileSummary } from './lib/profile.js';
import { codeVersion, fmt, log, machineInfo } from './lib/report.js';
import { LatencySamples, round, type LatencySummary } from './lib/stats.js';

const BATCH = 1000;
/** Other processes may use this much CPU (cores) before a measured run starts; see waitForQuiet. */
const MAX_OTHER_CORES = 0.25;
const TARGETS = { sqliteTasksPerSec: 10_000, pickupP50Ms: 5, pgVsPgBoss: 1.0 };

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** The systems one `--backends` id stands for: pg-boss is one row per setting. */
function backendsOf(id: BackendId, opts: E2eOptions): Backend[] {
  switch (id) {
    case 'sqlite':
      return [tasklaneBackend('sqlite', 'sqlite', 1)];
    case 'pg1':
    case 'pg2':
    case 'pg3':
      return [tasklaneBackend(id, 'postgres', Number(id.slice(2)))];
    case 'graphile':
      return [graphileWorker];
    case 'pgboss':
      return opts.pgbossSettings.map(pgBoss);
    case 'bullmq':
      return [bullmq];
  }
}

/** pg-boss's best row of the run: its settings either reach their bound or collapse. */
const bestPgBoss = (results: BackendResult[]): BackendResult | undefined =>
  results.filter((r) => r.id.startsWith('pgboss-')).sort((a, b) => b.tasksPerSec - a.tasksPerSec)[0];

interface CpuShare {
  /** CPU µs per task of each part of the system during the measured run. */
  usPerTask: { servers: number | null; workers: number | null; creator: number; storage: number | null };
  /** Cores used meanwhile: by each part, by everything else on the machine, stolen. */
  cores: { servers: number | null; workers: number | null; creator: number; storage: number | null };
  /** All the parts together, and the jobs/s that much CPU allows on this machine's cores if nothing else ran. */
  totalUsPerTask: number;
  ceilingJobsPerSec: number;
  otherCores: number | null;
  stealCores: number | null;
}

interface BackendResult {
  id: string;
  label: string;
  storage: string;
  settings: Record<string, unknown>;
  tasks: number;
  seconds: number;
  tasksPerSec: number;
  /** How long enqueueing all N took, and the rate of that alone. */
  createSeconds: number;
  createPerSec: number;
  pickupMs: LatencySummary & { p95: number };
  check: { completed: number | null; pending: number; handled: number; expected: number; ok: boolean };
  cpu: CpuShare;
  /** PostgreSQL's own counters for the system's database, per job (null for SQLite and Redis). */
  storageStats: { jobs: number; perJob: Record<string, number>; totals: PgDatabaseStats } | null;
  /** With --profile: where each Tasklane node's main thread spent the measured run. */
  profiles: Array<{ server: string; summary: ProfileSummary }>;
  /** Tasklane: HTTP requests and body bytes per job of the measured run, workers' and creator's. */
  httpPerJob: Record<'workers' | 'creator', { requests: number; bytesSent: number; bytesReceived: number } | null>;
  /** With --count-queries: PostgreSQL traffic per job of the measured run. */
  wirePerJob: { roundTrips: number; statements: number; bytesToServer: number; bytesFromServer: number } | null;
  quietBefore: number | null;
}

/** Runs `total` jobs through `add` in batches of 1,000 from `streams` concurrent streams. */
async function enqueue(prepared: Prepared, total: number, streams: number, batchBase: number): Promise<void> {
  const batches = Math.ceil(total / BATCH);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(streams, batches) }, async () => {
      for (let b = next++; b < batches; b = next++) {
        await prepared.addBatch(Math.min(BATCH, total - b * BATCH), batchBase + b);
      }
    }),
  );
}

/** Probe numbers of the single-add warm-up; the samples count from 1. */
const WARMUP_PROBES = 1_000_000;

const p95Of = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? Number.NaN;
};

async function measureBackend(
  backend: Backend,
  opts: E2eOptions,
  env: BenchEnv,
  wire: WireCounter | null,
): Promise<BackendResult> {
  log(`\n== ${backend.label}`);
  const prepared = await backend.prepare(env);
  let workers: WorkerPool | null = null;
  let tornDown = false;
  // Ctrl-C: the worker children exit with their IPC channel; the servers, database or Redis keys
  // of the system being measured go too.
  interrupted = async () => {
    await workers?.stop();
    if (!tornDown) await prepared.teardown();
  };
  try {
    workers = await startWorkers(
      prepared,
      opts.workers,
      opts.concurrency,
      env.profileDir === null ? null : join(env.profileDir, `${backend.id}-workers`),
    );
    const w = workers;
    let expected = 0; // every job ever added to this system
    const untilDone = async (timeoutMs: number) => {
      const at = await w.untilCompleted(expected, timeoutMs);
      if (prepared.settled === undefined) return at;
      await prepared.settled(expected);
      return hrNow();
    };

    if (opts.warmup > 0) {
      const t0 = hrNow();
      await enqueue(prepared, opts.warmup, opts.creators, 0);
      expected += opts.warmup;
      await untilDone(120_000);
      log(`  warm-up: ${opts.warmup.toLocaleString('en-US')} jobs in ${fmt((hrNow() - t0) / 1000)} s`);
    }

    if (opts.warmupSingles > 0) {
      const t0 = hrNow();
      // Probe numbers no sample uses: the workers report them, and nothing waits for them.
      for (let i = 0; i < opts.warmupSingles; i++) await prepared.addProbe(WARMUP_PROBES + i);
      expected += opts.warmupSingles;
      await untilDone(120_000);
      log(`  warm-up: ${opts.warmupSingles.toLocaleString('en-US')} single adds in ${fmt((hrNow() - t0) / 1000)} s`);
    }

    // Pick-up latency of a waiting worker: one job at a time, the workers idle in between. The
    // first few are not recorded. Spacing is random so that polling systems are caught at any phase.
    const latencies: number[] = [];
    const pickup = new LatencySamples();
    const unrecorded = Math.min(5, opts.samples);
    for (let i = 0; i < unrecorded + opts.samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
      const probe = i + 1;
      const t0 = hrNow();
      const picked = w.probe(probe, 30_000);
      await prepared.addProbe(probe);
      const at = await picked;
      expected++;
      if (i >= unrecorded) {
        latencies.push(at - t0);
        pickup.push(at - t0);
      }
    }
    await untilDone(30_000);
    const pickupMs = { ...pickup.summary(), p95: p95Of(latencies) };
    if (opts.samples > 0)
      log(
        `  pick-up of a waiting worker: p50 ${fmt(pickupMs.p50)} ms, p95 ${fmt(pickupMs.p95)} ms, max ${fmt(pickupMs.max)} ms`,
      );

    const quietBefore = opts.quietWait > 0 ? await waitForQuiet(MAX_OTHER_CORES, opts.quietWait, log) : null;

    // The measured run.
    const servers = () => {
      let sum = 0;
      for (const s of prepared.servers) {
        const c = pidCpuSeconds(s.pid);
        if (c === null) return null;
        sum += c;
      }
      return prepared.servers.length === 0 ? null : sum;
    };
    const cpu0 = {
      servers: servers(),
      workers: w.cpuSeconds(),
      creator: process.cpuUsage(),
      storage: prepared.storageCpuSeconds(),
      machine: machineCpu(),
    };
    // Storage processes come and go (pool connections): look at them often.
    const sampler = setInterval(() => prepared.storageCpuSeconds(), 200);
    const wire0 = backend.storage === 'postgres' ? wire?.counts() : undefined;
    const counters0 = { workers: w.counters(), creator: prepared.counters?.() ?? {} };
    prepared.profile?.start();
    const t0 = hrNow();
    expected += opts.tasks;
    let createdAt = 0;
    const created = enqueue(prepared, opts.tasks, opts.creators, 1_000_000).then(() => (createdAt = hrNow()));
    const [end] = await Promise.all([untilDone(600_000), created]);
    clearInterval(sampler);
    const seconds = (end - t0) / 1000;
    const profileFiles = (await prepared.profile?.stop()) ?? [];
    const wire1 = wire0 === undefined ? undefined : wire?.counts();
    const counters1 = { workers: w.counters(), creator: prepared.counters?.() ?? {} };
    const http = (side: 'workers' | 'creator') => {
      const d = (k: string) => ((counters1[side][k] ?? 0) - (counters0[side][k] ?? 0)) / opts.tasks;
      return d('httpRequests') === 0
        ? null
        : {
            requests: round(d('httpRequests'), 4),
            bytesSent: round(d('httpBytesSent'), 0),
            bytesReceived: round(d('httpBytesReceived'), 0),
          };
    };
    const httpPerJob = { workers: http('workers'), creator: http('creator') };
    if (httpPerJob.workers !== null && httpPerJob.creator !== null) {
      const [a, b] = [httpPerJob.workers, httpPerJob.creator];
      log(
        `  HTTP, per job: workers ${a.requests} requests, ${a.bytesSent} bytes sent, ${a.bytesReceived} received; ` +
          `creator ${b.requests} requests, ${b.bytesSent} bytes sent, ${b.bytesReceived} received (bodies)`,
      );
    }
    const wirePerJob =
      wire0 === undefined || wire1 === undefined
        ? null
        : {
            roundTrips: round((wire1.roundTrips - wire0.roundTrips) / opts.tasks, 2),
            statements: round((wire1.statements - wire0.statements) / opts.tasks, 2),
            bytesToServer: round((wire1.bytesUp - wire0.bytesUp) / opts.tasks, 0),
            bytesFromServer: round((wire1.bytesDown - wire0.bytesDown) / opts.tasks, 0),
          };
    if (wirePerJob !== null)
      log(
        `  PostgreSQL wire, per job of the measured run: ${wirePerJob.roundTrips} round trips, ${wirePerJob.statements} statements, ` +
          `${wirePerJob.bytesToServer} bytes sent, ${wirePerJob.bytesFromServer} bytes received`,
      );
    const c = process.cpuUsage(cpu0.creator);
    const cpu1 = { servers: servers(), workers: w.cpuSeconds(), storage: prepared.storageCpuSeconds() };
    const machine = coresBetween(cpu0.machine, machineCpu());
    const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
    const used = {
      servers: diff(cpu0.servers, cpu1.servers),
      workers: diff(cpu0.workers, cpu1.workers),
      creator: (c.user + c.system) / 1e6,
      storage: diff(cpu0.storage, cpu1.storage),
    };
    const perTask = (s: number | null) => (s === null ? null : round((s * 1e6) / opts.tasks, 1));
    const cores = (s: number | null) => (s === null ? null : round(s / seconds, 2));
    const ours = (used.servers ?? 0) + (used.workers ?? 0) + used.creator + (used.storage ?? 0);
    const cpu: CpuShare = {
      usPerTask: {
        servers: perTask(used.servers),
        workers: perTask(used.workers),
        creator: perTask(used.creator) as number,
        storage: perTask(used.storage),
      },
      cores: {
        servers: cores(used.servers),
        workers: cores(used.workers),
        creator: cores(used.creator) as number,
        storage: cores(used.storage),
      },
      totalUsPerTask: round((ours * 1e6) / opts.tasks, 0),
      ceilingJobsPerSec: round((os.availableParallelism() * opts.tasks) / ours, 0),
      otherCores: machine === null ? null : round(Math.max(0, machine.busy - ours / seconds), 2),
      stealCores: machine === null ? null : round(machine.steal, 2),
    };

    const stored = await prepared.check();
    const handled = w.handled();
    const ok =
      stored.pending === 0 && handled === expected && (stored.completed === null || stored.completed === expected);
    log(
      `  ${opts.tasks.toLocaleString('en-US')} jobs in ${fmt(seconds, 2)} s: ${fmt(opts.tasks / seconds, 0)} jobs/s ` +
        `(enqueued in ${fmt((createdAt - t0) / 1000, 2)} s); CPU µs/job: servers ${fmt(cpu.usPerTask.servers, 0)}, ` +
        `workers ${fmt(cpu.usPerTask.workers, 0)}, creator ${fmt(cpu.usPerTask.creator, 0)}, storage ${fmt(cpu.usPerTask.storage, 0)}; ` +
        `other processes ${fmt(cpu.otherCores)} cores`,
    );
    log(
      `  check: ${handled} handler runs for ${expected} jobs, ${stored.completed ?? 'n/a'} completed in storage, ${stored.pending} pending: ${ok ? 'ok' : 'WRONG'}`,
    );

    // Everything stops (so PostgreSQL's counters are flushed), then the storage goes.
    workers = null;
    await w.stop();
    tornDown = true;
    const stats = await prepared.teardown();
    const perJob = (n: number) => round(n / expected, 2);
    const storageStats =
      stats === null
        ? null
        : {
            jobs: expected,
            perJob: {
              transactions: perJob(stats.transactions),
              rowsInserted: perJob(stats.rowsInserted),
              rowsUpdated: perJob(stats.rowsUpdated),
              rowsHotUpdated: perJob(stats.rowsHotUpdated),
              rowsDeleted: perJob(stats.rowsDeleted),
            },
            totals: stats,
          };
    if (storageStats !== null) {
      const p = storageStats.perJob;
      log(
        `  PostgreSQL, per job over the database's life: ${p.transactions} transactions, rows ${p.rowsInserted} inserted, ` +
          `${p.rowsUpdated} updated (${p.rowsHotUpdated} HOT), ${p.rowsDeleted} deleted`,
      );
    }
    return {
      id: backend.id,
      label: backend.label,
      storage: backend.storage,
      settings: { ...prepared.settings, workerProcesses: opts.workers },
      tasks: opts.tasks,
      seconds: round(seconds, 3),
      tasksPerSec: round(opts.tasks / seconds, 0),
      createSeconds: round((createdAt - t0) / 1000, 3),
      createPerSec: round(opts.tasks / ((createdAt - t0) / 1000), 0),
      pickupMs,
      check: { ...stored, handled, expected, ok },
      cpu,
      storageStats,
      wirePerJob,
      httpPerJob,
      profiles: profileFiles.map((p) => ({
        server: p.server,
        // Each node served about its share of the jobs (creates and workers are spread evenly).
        summary: summarizeProfile(p.file, Math.round(opts.tasks / profileFiles.length)),
      })),
      quietBefore: quietBefore === null ? null : round(quietBefore, 2),
    };
  } finally {
    await workers?.stop();
    if (!tornDown) await prepared.teardown();
    interrupted = null;
  }
}

let interrupted: (() => Promise<void>) | null = null;

function printTable(results: BackendResult[]): void {
  const graphile = results.find((r) => r.id === 'graphile');
  const boss = bestPgBoss(results);
  const ratio = (r: BackendResult, base: BackendResult | undefined) =>
    base === undefined ? '' : `${fmt(r.tasksPerSec / base.tasksPerSec, 2)}×`;
  const rows = results.map((r) => [
    r.label,
    fmt(r.tasksPerSec, 0),
    ratio(r, graphile),
    r.storage === 'postgres' ? ratio(r, boss) : '',
    fmt(r.createPerSec, 0),
    r.pickupMs.samples === 0 ? '-' : fmt(r.pickupMs.p50, 1),
    r.pickupMs.samples === 0 ? '-' : fmt(r.pickupMs.p95, 1),
    [r.cpu.usPerTask.servers, r.cpu.usPerTask.workers, r.cpu.usPerTask.creator, r.cpu.usPerTask.storage]
      .map((v) => (v === null ? '-' : fmt(v, 0)))
      .join(' / '),
    fmt(r.cpu.totalUsPerTask, 0),
    fmt(r.cpu.ceilingJobsPerSec, 0),
    fmt(r.cpu.otherCores),
    r.check.ok ? 'ok' : 'WRONG',
  ]);
  const head = [
    'system',
    'jobs/s',
    'vs graphile',
    'vs pg-boss',
    'enqueue/s',
    'pick-up p50 ms',
    'p95 ms',
    'CPU µs/job: server/workers/creator/storage',
    'total',
    'CPU ceiling/s',
    'others',
    'check',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')}`;
  log('');
  log(line(head));
  for (const r of rows) log(line(r.map(String)));
}

async function main(opts: E2eOptions): Promise<void> {
  // A Ctrl-C may arrive more than once (relayed by npx, tsx and our own parent): clean up once.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`\n${signal}: cleaning up …`);
      void (interrupted?.() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dbStamp = stamp.replace(/-/g, '').toLowerCase().slice(0, 15);
  const profileDir = opts.profile ? join(resultsDir, `e2e-throughput-${stamp}-profiles`) : null;
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true });
  const env: BenchEnv = {
    pgServer: opts.pg,
    redisUrl: opts.redis,
    stamp: dbStamp,
    workers: opts.workers,
    concurrency: opts.concurrency,
    profileDir,
    log,
  };
  const wire = opts.countQueries ? await startWireCounter(opts.pg) : null;
  if (wire !== null) {
    env.pgServer = wire.url;
    log(
      'Counting mode: PostgreSQL connections go through a counting proxy (slower; the speed figures are not comparable).',
    );
  }
  const code = codeVersion();
  log(
    `End-to-end throughput: ${opts.tasks.toLocaleString('en-US')} no-op jobs per system, ${opts.workers} worker processes ` +
      `(concurrency ${opts.concurrency} each), ${opts.creators} enqueue streams of 1,000-job batches; systems: ${opts.backends.join(', ')}`,
  );
  const results: BackendResult[] = [];
  const failures: { id: string; error: string }[] = [];
  const started = performance.now();
  for (const backend of opts.backends.flatMap((id) => backendsOf(id, opts))) {
    try {
      const r = await measureBackend(backend, opts, env, wire);
      results.push(r);
    } catch (err) {
      log(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      failures.push({ id: backend.id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  await wire?.close();
  printTable(results);
  const graphile = results.find((r) => r.id === 'graphile');
  const boss = bestPgBoss(results);
  const sqlite = results.find((r) => r.id === 'sqlite');
  const bestPg = results
    .filter((r) => r.storage === 'postgres' && r.label.startsWith('Tasklane'))
    .sort((a, b) => b.tasksPerSec - a.tasksPerSec)[0];
  const targets = {
    sqliteTasksPerSec:
      sqlite === undefined
        ? null
        : {
            atLeast: TARGETS.sqliteTasksPerSec,
            measured: sqlite.tasksPerSec,
            met: sqlite.tasksPerSec >= TARGETS.sqliteTasksPerSec,
          },
    sqlitePickupP50Ms:
      sqlite === undefined || sqlite.pickupMs.samples === 0
        ? null
        : {
            below: TARGETS.pickupP50Ms,
            measured: round(sqlite.pickupMs.p50, 2),
            met: sqlite.pickupMs.p50 < TARGETS.pickupP50Ms,
          },
    postgresVsPgBoss:
      bestPg === undefined || boss === undefined
        ? null
        : {
            atLeast: TARGETS.pgVsPgBoss,
            best: bestPg.id,
            against: boss.id,
            measured: round(bestPg.tasksPerSec / boss.tasksPerSec, 2),
            met: bestPg.tasksPerSec / boss.tasksPerSec >= TARGETS.pgVsPgBoss,
          },
  };
  log('');
  if (targets.sqliteTasksPerSec)
    log(`  target SQLite ≥ ${TARGETS.sqliteTasksPerSec} jobs/s: ${targets.sqliteTasksPerSec.met ? 'met' : 'MISSED'}`);
  if (targets.sqlitePickupP50Ms)
    log(`  target SQLite pick-up p50 < ${TARGETS.pickupP50Ms} ms: ${targets.sqlitePickupP50Ms.met ? 'met' : 'MISSED'}`);
  if (targets.postgresVsPgBoss)
    log(
      `  target Tasklane on PostgreSQL ≥ 1.0× pg-boss: ${targets.postgresVsPgBoss.measured}× (${targets.postgresVsPgBoss.best} against pg-boss's best setting, ${targets.postgresVsPgBoss.against}): ${targets.postgresVsPgBoss.met ? 'met' : 'MISSED'}`,
    );
  if (graphile !== undefined) {
    for (const r of results.filter((x) => x.label.startsWith('Tasklane')))
      log(`  ${r.label}: ${fmt(graphile.tasksPerSec / r.tasksPerSec, 1)}× slower than graphile-worker`);
  }
  for (const r of results)
    for (const p of r.profiles)
      log(`\n${formatProfileSummary(`CPU profile of ${p.server} (the measured run)`, p.summary)}`);
  for (const f of failures) log(`  ${f.id} FAILED: ${f.error}`);

  const report = {
    benchmark: 'end-to-end throughput (create in batches, claim in batches, complete)',
    date: new Date().toISOString(),
    machine: machineInfo(),
    code,
    options: opts,
    minutes: round((performance.now() - started) / 60_000, 1),
    results,
    failures,
    targets,
  };
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `e2e-throughput-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nWritten: ${file} (${fmt(report.minutes, 1)} min)`);
  if (failures.length > 0 || results.some((r) => !r.check.ok)) process.exitCode = 1;
}

const options = readE2eOptions(process.argv.slice(2), process.env);
const exitCode = await runInOwnSchedulingGroup(options.nice, log);
if (exitCode === null) await main(options);
else process.exitCode = exitCode;
