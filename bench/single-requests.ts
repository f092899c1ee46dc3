/**
 * One request per task operation: the way a client that does not batch uses Tasklane. Concurrent
 * clients (a keep-alive connection each) send, for `--duration` seconds each phase:
 *
 *   create   POST /v1/tasks, one task a request
 *   work     POST /v1/tasks/claim with limit 1, then POST /v1/tasks/{id}/complete
 *
 * against a real `tasklane serve` on SQLite and on PostgreSQL (a fresh database, dropped at the
 * end). Prints requests per second and the CPU of each process per request: the server, the
 * PostgreSQL backends of that database, and this process (the load). Per-request costs are what
 * this measures (authentication, BEGIN and COMMIT, round trips), which the batched e2e benchmark
 * spreads over 50 to 1,000 tasks a request.
 *
 *   npm run build && npx tsx bench/single-requests.ts [--backends=sqlite,pg] [--connections=32]
 *     [--duration=5] [--pg=postgres://postgres@127.0.0.1:5432]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { readFlags } from './lib/options.js';
import { createDatabase, type BenchDatabase } from './lib/pg-admin.js';
import { cpuOfProcesses, postgresBackendsOf } from './lib/proc-cpu.js';
import { newRootKey, startNode, type TasklaneNode } from './lib/tasklane-nodes.js';

const flags = readFlags(process.argv.slice(2));
const BACKENDS = (flags.get('backends') ?? 'sqlite,pg').split(',');
const CONNECTIONS = Number(flags.get('connections') ?? 32);
const DURATION_S = Number(flags.get('duration') ?? 5);
const PG = flags.get('pg') ?? 'postgres://postgres@127.0.0.1:5432';
const WARMUP_S = 1.5;

interface PhaseResult {
  phase: string;
  requests: number;
  perSecond: number;
  serverUs: number;
  postgresUs: number | null;
  loadUs: number;
}

/** A client: the node's URL and key over one pool of keep-alive connections. */
function client(node: TasklaneNode, key: string) {
  const pool = new Pool(node.url, { connections: CONNECTIONS });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = async <T>(path: string, body: unknown, expect: number): Promise<T> => {
    const res = await pool.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== expect) throw new Error(`POST ${path} answered ${res.statusCode}: ${text}`);
    return JSON.parse(text) as T;
  };
  return { post, close: () => pool.close() };
}

type Client = ReturnType<typeof client>;
type Step = (c: Client) => Promise<number>;

const createOne: Step = async (c) => {
  await c.post('/v1/tasks', { type: 'bench.single', input: {} }, 201);
  return 1;
};

/** Claim one task and complete it: two requests (one if there was nothing to claim). */
const workOne: Step = async (c) => {
  const { tasks } = await c.post<{ tasks: Array<{ id: string; lease: { id: string } }> }>(
    '/v1/tasks/claim',
    { types: ['bench.single'], workerId: 'bench', limit: 1 },
    200,
  );
  const task = tasks[0];
  if (task === undefined) return 1;
  await c.post(`/v1/tasks/${task.id}/complete`, { leaseId: task.lease.id, result: null }, 200);
  return 2;
};

/** CONNECTIONS loops of `step` for `seconds`; the requests they sent. */
async function loops(c: Client, step: Step, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let requests = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        // Not `requests += await step(c)`: that reads `requests` before the await, and the
        // loops would overwrite each other's counts.
        const sent = await step(c);
        requests += sent;
      }
    }),
  );
  return requests;
}

async function phase(
  name: string,
  step: Step,
  c: Client,
  node: TasklaneNode,
  postgres: { sample(): number | null } | null,
): Promise<PhaseResult> {
  await loops(c, step, WARMUP_S);
  const [server0, pg0, load0, t0] = [
    node.cpuSeconds() ?? 0,
    postgres?.sample() ?? 0,
    process.cpuUsage(),
    performance.now(),
  ];
  const requests = await loops(c, step, DURATION_S);
  const seconds = (performance.now() - t0) / 1000;
  const load = process.cpuUsage(load0);
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1e6) / requests;
  return {
    phase: name,
    requests,
    perSecond: requests / seconds,
    serverUs: perRequest((node.cpuSeconds() ?? 0) - server0),
    postgresUs: postgres === null ? null : perRequest((postgres.sample() ?? 0) - pg0),
    loadUs: (load.user + load.system) / requests,
  };
}

async function measure(backend: string): Promise<PhaseResult[]> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tasklane-single-'));
  let db: BenchDatabase | null = null;
  let node: TasklaneNode | null = null;
  try {
    if (backend === 'pg') db = await createDatabase(PG, `tlsingle_${Date.now()}`);
    const key = newRootKey();
    node = await startNode({ name: backend, dataDir, rootKey: key, ...(db === null ? {} : { database: db.url }) });
    const postgres = db === null ? null : cpuOfProcesses(postgresBackendsOf(db.name));
    postgres?.sample();
    const c = client(node, key);
    try {
      // Creates first: they leave the tasks the work phase claims.
      return [await phase('create', createOne, c, node, postgres), await phase('work', workOne, c, node, postgres)];
    } finally {
      await c.close();
    }
  } finally {
    await node?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.error(
  `One request per operation: ${CONNECTIONS} connections, ${DURATION_S} s a phase after ${WARMUP_S} s of warm-up`,
);
console.error('backend   phase    requests/s   CPU µs/request: server / postgres / load');
for (const backend of BACKENDS) {
  if (backend !== 'sqlite' && backend !== 'pg') throw new Error(`--backends: sqlite or pg, not ${backend}`);
  for (const r of await measure(backend)) {
    const pg = r.postgresUs === null ? '-' : r.postgresUs.toFixed(0);
    console.error(
      `${backend.padEnd(9)} ${r.phase.padEnd(8)} ${r.perSecond.toFixed(0).padStart(10)}   ${r.serverUs.toFixed(0)} / ${pg} / ${r.loadUs.toFixed(0)}`,
    );
  }
}
