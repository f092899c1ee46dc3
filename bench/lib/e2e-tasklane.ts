/**
 * Tasklane in the end-to-end benchmark: `tasklane serve` nodes (SQLite, or 1..n nodes on one fresh
 * PostgreSQL database), tasks created through `POST /v1/tasks/batch` (1,000 a request), and worker
 * processes running the SDK's `createWorker` (batched claims, batched reports) over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { TasklaneClient, createWorker, type RequestOptions } from '../../packages/sdk/dist/index.js';
import { probeOf, type Backend, type BenchEnv, type Prepared, type RunWorker } from './e2e-types.js';
import { createDatabase, pgDatabaseStats, type BenchDatabase, type PgDatabaseStats } from './pg-admin.js';
import { cpuOfProcesses, postgresBackendsOf } from './proc-cpu.js';
import { newRootKey, startNode, type TasklaneNode } from './tasklane-nodes.js';

const TYPE = 'bench.noop';

/**
 * Counts requests and body bytes each way of a client, so the benchmark can say what the HTTP API
 * costs per task: bytes sent as undici sends them (an interceptor on this process's global
 * dispatcher, which the SDK uses on Node.js, routed by the server's origin: one process measures
 * several systems in turn), bytes received from each answer's Content-Length (Fastify sets it on
 * every JSON answer). The client keeps its own transport.
 */
function counted(client: TasklaneClient, url: string, count: (name: string, n: number) => void): TasklaneClient {
  if (countsByOrigin.size === 0) {
    setGlobalDispatcher(
      getGlobalDispatcher().compose((dispatch) => (opts, handler) => {
        const sent = typeof opts.body === 'string' ? Buffer.byteLength(opts.body) : 0;
        countsByOrigin.get(String(opts.origin))?.('httpBytesSent', sent);
        return dispatch(opts, handler);
      }),
    );
  }
  countsByOrigin.set(new URL(url).origin, count);
  const request = client.request.bind(client);
  client.request = async <T>(method: string, path: string, opts?: RequestOptions) => {
    const res = await request<T>(method, path, opts);
    count('httpRequests', 1);
    count('httpBytesReceived', Number(res.headers.get('content-length') ?? 0));
    return res;
  };
  return client;
}
const countsByOrigin = new Map<string, (name: string, n: number) => void>();

interface WorkerConfig {
  url: string;
  key: string;
}

export function tasklaneBackend(id: string, storage: 'sqlite' | 'postgres', nodes: number): Backend {
  const label =
    storage === 'sqlite' ? 'Tasklane, SQLite' : `Tasklane, PostgreSQL, ${nodes} node${nodes > 1 ? 's' : ''}`;
  return {
    id,
    label,
    storage,
    async prepare(env: BenchEnv): Promise<Prepared> {
      const dataDir = mkdtempSync(join(os.tmpdir(), `tasklane-e2e-${id}-`));
      const rootKey = newRootKey();
      let db: BenchDatabase | null = null;
      const started: TasklaneNode[] = [];
      const teardown = async (): Promise<PgDatabaseStats | null> => {
        try {
          await Promise.all(started.map((n) => n.stop()));
          return db === null ? null : await pgDatabaseStats(env.pgServer, db.name);
        } finally {
          await db?.drop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      };
      try {
        if (storage === 'postgres') db = await createDatabase(env.pgServer, `tlbench_${env.stamp}_${id}`);
        // One after another: the first migrates and creates the org of the root key, the others find it.
        for (let i = 0; i < nodes; i++) {
          started.push(
            await startNode({
              name: `${id}-node${i + 1}`,
              dataDir: join(dataDir, `node${i + 1}`),
              rootKey,
              ...(db === null ? {} : { database: db.url, schema: 'tasklane' }),
              profileDir: env.profileDir,
            }),
          );
        }
      } catch (err) {
        await teardown();
        throw err;
      }
      const counters: Record<string, number> = {};
      const count = (name: string, n: number) => void (counters[name] = (counters[name] ?? 0) + n);
      const clients = started.map((n) => counted(new TasklaneClient({ url: n.url, key: rootKey }), n.url, count));
      const client = (n: number) => clients[n % clients.length] as TasklaneClient;
      const dbCpu = db === null ? null : cpuOfProcesses(postgresBackendsOf(db.name));
      return {
        settings: {
          nodes,
          storage:
            db === null
              ? 'sqlite (WAL), one file'
              : `postgresql database ${db.name}, schema tasklane, pool 10 per node`,
          createBatch:
            'POST /v1/tasks/batch with Prefer: return=minimal, 1,000 tasks a request, round-robin over the nodes',
          worker: `@tasklane/sdk createWorker, concurrency ${env.concurrency}, claims up to 100 a request (long-poll 20 s), reports batched`,
          workersSpread: `worker i talks to node i mod ${nodes}`,
          server: 'tasklane serve --rate-limit 0 --log-level warn',
        },
        workerModule: new URL(import.meta.url),
        workerConfig: (i): WorkerConfig => ({ url: (started[i % started.length] as TasklaneNode).url, key: rootKey }),
        servers: started.map((n) => ({ name: n.name, pid: n.pid })),
        storageCpuSeconds: () => dbCpu?.sample() ?? null,
        addBatch: async (size, batchNo) => {
          // Like a producer that only needs the ids: Prefer: return=minimal.
          await client(batchNo).tasks.createBatch(
            { tasks: Array.from({ length: size }, () => ({ type: TYPE, input: {} })) },
            { minimal: true },
          );
        },
        addProbe: async (probe) => {
          await client(probe).tasks.create({ type: TYPE, input: { probe } });
        },
        check: async () => {
          const s = await client(0).insights.stats();
          const b = s.byStatus as Record<string, number>;
          return { completed: b.completed ?? 0, pending: s.total - (b.completed ?? 0) };
        },
        counters: () => ({ ...counters }),
        ...(env.profileDir === null
          ? {}
          : {
              profile: {
                start: () => started.forEach((n) => n.startProfile()),
                stop: () => Promise.all(started.map(async (n) => ({ server: n.name, file: await n.stopProfile() }))),
              },
            }),
        teardown,
      };
    },
  };
}

/** Worker child: the SDK's worker loop with a no-op handler. */
export const runWorker: RunWorker = async (ctx) => {
  const { url, key } = ctx.config as WorkerConfig;
  const client = counted(new TasklaneClient({ url, key }), url, ctx.count);
  // Count completions when the server has acknowledged them (the batched POST /v1/tasks/reports).
  const reports = client.workers.reports.bind(client.workers);
  client.workers.reports = async (items) => {
    const results = await reports(items);
    ctx.completed(results.filter((r) => r.ok).length);
    return results;
  };
  let errors = 0;
  const worker = createWorker({
    client,
    types: [TYPE],
    concurrency: ctx.concurrency,
    handleSignals: false,
    handler: (task) => {
      const probe = probeOf(task.input);
      if (probe !== null) ctx.probe(probe);
      ctx.handled();
      return undefined;
    },
    onError: (err) => {
      if (errors++ < 5) process.stderr.write(`  [tasklane worker ${ctx.index}] ${String(err)}\n`);
    },
  });
  return { stop: () => worker.stop() };
};
