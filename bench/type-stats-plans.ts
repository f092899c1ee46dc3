/**
 * The plans and times of the reads behind the dashboard's type page and search box, on a large org:
 * `completionsByMinute`, `oldestQueuedAt` of one type, and `listTasks` with `titleContains`; and of
 * `taskCensus`, the one read behind /metrics' task gauges (every org's tasks, grouped). No
 * index serves them alone (none was added for them): this shows which existing one each backend
 * picks and what a call costs, on SQLite and (with --pg) PostgreSQL.
 *
 *   npm run build && npx tsx bench/type-stats-plans.ts [--tasks=100000] [--pg=postgres://postgres@127.0.0.1:5432/postgres]
 *
 * One org holds `--tasks` tasks of four types (60% completed or failed over the last 24 hours, 30%
 * queued, the rest in progress or canceled); a second org holds a tenth as many. Each read runs
 * five times and the median is printed, with the plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN
 * ANALYZE on PostgreSQL (after an ANALYZE, as autovacuum would have run by then). The SQL texts
 * below are the adapters' (sqlite-reader.ts, pg-reader.ts), repeated here to be explained.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { systemClock } from '../packages/server/dist/domain/clock.js';
import { DEFAULT_RETRY_POLICY, type Task } from '../packages/server/dist/domain/task.js';
import { openStore } from '../packages/server/dist/storage/open-store.js';
import type { TaskStore } from '../packages/server/dist/storage/task-store.js';
import { readFlags } from './lib/options.js';

const flags = readFlags(process.argv.slice(2));
const TASKS = Number(flags.get('tasks') ?? 100_000);
const PG_URL = flags.get('pg') ?? '';
const TYPES = ['email.send', 'pdf.render', 'video.encode', 'report.build'];
const WORDS = ['invoice', 'weekly', 'report', 'customer', 'export', 'backup', 'résumé', 'Deploy', 'sync', 'audit'];
const DAY = 24 * 3600 * 1000;

function taskOf(orgId: string, i: number, now: number): Task {
  const created = now - DAY - 1000 + i; // ids below are created in this order
  const kind = i % 10;
  const status: Task['status'] = kind < 5 ? 'completed' : kind === 5 ? 'failed' : kind < 9 ? 'queued' : 'canceled';
  const finished = status === 'completed' || status === 'failed' || status === 'canceled';
  const completedAt = finished ? now - Math.floor(((TASKS - i) / TASKS) * DAY) : null;
  const id = `${created
    .toString(16)
    .padStart(12, '0')
    .replace(/(.{8})(.{4})/, '$1-$2')}-7000-8000-${i.toString(16).padStart(12, '0')}`;
  return {
    id,
    orgId,
    projectId: null,
    identifier: null,
    listId: null,
    type: TYPES[i % TYPES.length]!,
    title: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} #${i}`,
    description: null,
    input: { n: i },
    status,
    priority: i % 3,
    progress: null,
    progressMessage: null,
    result: status === 'completed' ? { ok: true } : null,
    error: status === 'failed' ? { code: 'TASK_FAILED', message: 'boom', retryable: false } : null,
    attempt: finished ? 1 : 0,
    retryCount: 0,
    maxRetries: 3,
    retryPolicy: { ...DEFAULT_RETRY_POLICY },
    leaseMs: null,
    timeoutMs: null,
    runAt: null,
    dependsOn: [],
    blockedBy: [],
    blockedReason: null,
    blockKind: null,
    onDependencyFailure: 'cancel',
    assignee: null,
    createdBy: 'bench',
    pollCount: 0,
    requiresReview: false,
    metadata: {},
    labels: [],
    idempotencyKey: null,
    ttlSeconds: 3600,
    version: 1,
    createdAt: created,
    updatedAt: completedAt ?? created,
    queuedAt: created,
    startedAt: finished ? created : null,
    completedAt,
    blockedAt: null,
    archivedAt: null,
    expiresAt: null,
    timeoutAt: null,
    lease: null,
  };
}

async function fill(store: TaskStore, now: number): Promise<void> {
  await store.write(async (tx) => {
    await tx.insertOrg({ id: 'big', name: 'Big', createdAt: now - 2 * DAY });
    await tx.insertOrg({ id: 'small', name: 'Small', createdAt: now - 2 * DAY });
  });
  for (const [org, n] of [
    ['big', TASKS],
    ['small', Math.floor(TASKS / 10)],
  ] as const) {
    for (let from = 0; from < n; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - from) }, (_, k) => taskOf(org, from + k, now));
      await store.write((tx) => tx.insertTasks(batch));
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(what: string, fn: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    result = await fn();
    ms.push(performance.now() - t);
  }
  const size = Array.isArray(result) ? `${result.length} rows` : JSON.stringify(result)?.slice(0, 60);
  console.log(`  ${what}: ${median(ms).toFixed(1)} ms (median of 5) → ${size}`);
}

interface Read {
  name: string;
  run: (store: TaskStore, now: number) => Promise<unknown>;
  sqlite: { sql: string; params: (now: number) => unknown[] };
  pg: { sql: string; params: (now: number) => unknown[] };
}

const COMPLETIONS_SQLITE = `SELECT (completed_at / 60000) * 60000 AS minute,
  sum(status = 'completed') AS completed, sum(status = 'failed') AS failed FROM tasks
  WHERE org_id = ? AND status IN ('completed', 'failed') AND type = ? AND completed_at >= ?
  GROUP BY minute ORDER BY minute`;
const COMPLETIONS_PG = `SELECT (completed_at / 60000) * 60000 AS minute,
  count(*) FILTER (WHERE status = 'completed') AS completed, count(*) FILTER (WHERE status = 'failed') AS failed
  FROM tasks WHERE org_id = $1 AND status IN ('completed', 'failed') AND type = $2 AND completed_at >= $3
  GROUP BY 1 ORDER BY 1`;
const OLDEST = (p: (n: number) => string) =>
  `SELECT min(coalesce(run_at, queued_at)) AS t FROM tasks WHERE org_id = ${p(1)} AND type = ${p(3)} AND status = 'queued' AND (run_at IS NULL OR run_at <= ${p(2)})`;
const TASK_LIST = (p: (n: number) => string, like: string) =>
  `SELECT id FROM tasks WHERE org_id = ${p(1)} AND archived_at IS NULL AND title ${like} ${p(2)} ESCAPE '\\' ORDER BY id DESC LIMIT 51`;

const CENSUS_SQLITE = `SELECT status, type, count(*) AS count, min(CASE WHEN status = 'queued' AND (run_at IS NULL OR run_at <= ?)
  THEN coalesce(run_at, queued_at) END) AS oldestClaimableAt FROM tasks GROUP BY status, type`;
const CENSUS_PG = `SELECT status, type, count(*) AS count, min(coalesce(run_at, queued_at))
  FILTER (WHERE status = 'queued' AND (run_at IS NULL OR run_at <= $1)) AS "oldestClaimableAt"
  FROM tasks GROUP BY status, type`;

const READS: Read[] = [
  {
    // /metrics' gauges: every org's tasks by status and type, at most once per 5 s per node.
    name: 'taskCensus (every org, the metrics gauges)',
    run: (s) => s.read((tx) => tx.taskCensus()),
    sqlite: { sql: CENSUS_SQLITE, params: (now) => [now] },
    pg: { sql: CENSUS_PG, params: (now) => [now] },
  },
  {
    name: 'completionsByMinute, last 60 minutes',
    run: (s, now) => s.read((tx) => tx.completionsByMinute('big', 'email.send', now - 3600_000)),
    sqlite: { sql: COMPLETIONS_SQLITE, params: (now) => ['big', 'email.send', now - 3600_000] },
    pg: { sql: COMPLETIONS_PG, params: (now) => ['big', 'email.send', now - 3600_000] },
  },
  {
    name: 'completionsByMinute, last 24 hours',
    run: (s, now) => s.read((tx) => tx.completionsByMinute('big', 'email.send', now - DAY)),
    sqlite: { sql: COMPLETIONS_SQLITE, params: (now) => ['big', 'email.send', now - DAY] },
    pg: { sql: COMPLETIONS_PG, params: (now) => ['big', 'email.send', now - DAY] },
  },
  {
    name: 'completionsByMinute, last 60 minutes, the small org (a tenth of the table)',
    run: (s, now) => s.read((tx) => tx.completionsByMinute('small', 'email.send', now - 3600_000)),
    sqlite: { sql: COMPLETIONS_SQLITE, params: (now) => ['small', 'email.send', now - 3600_000] },
    pg: { sql: COMPLETIONS_PG, params: (now) => ['small', 'email.send', now - 3600_000] },
  },
  {
    name: 'oldestQueuedAt of one type',
    run: (s) => s.read((tx) => tx.oldestQueuedAt('big', 'email.send')),
    sqlite: { sql: OLDEST(() => '?'), params: (now) => ['big', now, 'email.send'] },
    pg: { sql: OLDEST((n) => `$${n}`), params: (now) => ['big', now, 'email.send'] },
  },
  {
    name: 'listTasks titleContains, frequent ("weekly"), 50 a page',
    run: (s) => s.read((tx) => tx.listTasks('big', { titleContains: 'weekly' }, 50, null)),
    sqlite: { sql: TASK_LIST(() => '?', 'LIKE'), params: () => ['big', '%weekly%'] },
    pg: { sql: TASK_LIST((n) => `$${n}`, 'ILIKE'), params: () => ['big', '%weekly%'] },
  },
  {
    name: 'listTasks titleContains, absent (every title read)',
    run: (s) => s.read((tx) => tx.listTasks('big', { titleContains: 'no such title' }, 50, null)),
    sqlite: { sql: TASK_LIST(() => '?', 'LIKE'), params: () => ['big', '%no such title%'] },
    pg: { sql: TASK_LIST((n) => `$${n}`, 'ILIKE'), params: () => ['big', '%no such title%'] },
  },
];

async function sqliteRun(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-plans-'));
  const path = join(dir, 'tasklane.db');
  const store = openStore(`sqlite:${path}`, systemClock);
  try {
    await store.migrate();
    const now = Date.now();
    const t = performance.now();
    await fill(store, now);
    console.log(
      `SQLite: ${TASKS} tasks (+${TASKS / 10} in another org) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const db = new Database(path, { readonly: true });
    for (const r of READS) {
      await timed(r.name, () => r.run(store, now));
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${r.sqlite.sql}`).all(...r.sqlite.params(now)) as Array<{
        detail: string;
      }>;
      for (const p of plan) console.log(`      ${p.detail}`);
    }
    db.close();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgRun(url: string): Promise<void> {
  const schema = `tlplans_${process.pid}`;
  const store = openStore(url, systemClock, { schema });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await store.migrate();
    const now = Date.now();
    const t = performance.now();
    await fill(store, now);
    await client.query(`SET search_path TO ${schema}`);
    await client.query('ANALYZE tasks');
    console.log(`PostgreSQL: ${TASKS} tasks (+${TASKS / 10}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (const r of READS) {
      await timed(r.name, () => r.run(store, now));
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${r.pg.sql}`,
        r.pg.params(now),
      );
      for (const row of rows) console.log(`      ${row['QUERY PLAN']}`);
    }
  } finally {
    await store.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

await sqliteRun();
if (PG_URL !== '') await pgRun(PG_URL);
