/**
 * Event streams at scale: 10,000 concurrent `GET /v1/events` streams on one node, on SQLite and on
 * PostgreSQL. Measures
 *   - memory per stream: the server's RSS and V8 heap (after a full GC) with the streams open,
 *     minus the same with none, divided by the number of streams;
 *   - delivery: for each of `--events` changes (a PATCH, one task.updated event each, one at a
 *     time), the time from sending the PATCH to the frame's arrival on each stream: p50 and p99
 *     over every (event, stream), and the median time for an event to reach all of them;
 *   - the CPU that delivery cost per event: the server's (the PATCH included), PostgreSQL's (the
 *     backends of the run's database) and this process's (the clients'), steadier than times on a
 *     shared machine; the server's extra per stream is (CPU with N streams - with 1) / (N - 1);
 * and the same delivery with one stream open (`--baseline-events` events, more: its CPU is a few
 * ticks of /proc's 10 ms), in the same run, as the baseline the figures are divided by. The server is a child process (servers/streams-server.ts); the streams are held by
 * this process, one connection each.
 *
 * Each process holds one file descriptor per connection. Node raises its own soft limit to the hard
 * one at start, so when that (`ulimit -Hn`) is below what the streams need, the benchmark runs
 * itself again under `ulimit -n N`, which only root (CAP_SYS_RESOURCE) may do, and says so.
 *
 *   npm run build && npx tsx bench/event-streams.ts [--backends=sqlite,pg] [--streams=10000]
 *     [--events=20] [--baseline-events=100] [--pg=postgres://postgres@127.0.0.1:5432]
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFlags } from './lib/options.js';
import { createDatabase, type BenchDatabase } from './lib/pg-admin.js';
import { cpuOfProcesses, pidCpuSeconds, postgresBackendsOf } from './lib/proc-cpu.js';
import { codeVersion, machineInfo } from './lib/report.js';
import { LatencySamples, type LatencySummary } from './lib/stats.js';
import { newRootKey } from './lib/tasklane-nodes.js';
import type { StreamsServerMessage } from './servers/streams-server.js';

const flags = readFlags(process.argv.slice(2));
const BACKENDS = (flags.get('backends') ?? 'sqlite,pg').split(',');
const STREAMS = Number(flags.get('streams') ?? 10_000);
const EVENTS = Number(flags.get('events') ?? 20);
const BASELINE_EVENTS = Number(flags.get('baseline-events') ?? 100);
const PG = flags.get('pg') ?? 'postgres://postgres@127.0.0.1:5432';
/** Connections opened at once while the streams are being opened. */
const OPENING = 200;
/** Descriptors beyond the streams: the database, the log, the runtime. */
const SPARE_FDS = 1000;
const SERVER = new URL('./servers/streams-server.ts', import.meta.url);

raiseFileLimit(STREAMS + SPARE_FDS);

// ---- the server --------------------------------------------------------------------------------

interface Server {
  url: string;
  pid: number;
  memory(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

function startServer(env: Record<string, string>): Promise<Server> {
  const child = fork(SERVER, [], {
    // BENCH_SERVER_NODE_OPTIONS: more flags for the server (`--cpu-prof --cpu-prof-dir=DIR` to profile it).
    execArgv: [
      '--expose-gc',
      '--import',
      'tsx',
      ...(process.env.BENCH_SERVER_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T extends StreamsServerMessage['type']>(type: T) =>
    new Promise<Extract<StreamsServerMessage, { type: T }>>((resolve, reject) => {
      const on = (m: StreamsServerMessage) => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m as Extract<StreamsServerMessage, { type: T }>);
      };
      child.on('message', on);
      void exited.then(() => reject(new Error(`the server exited while the benchmark waited for '${type}'`)));
    });
  return next('ready').then(({ url }) => ({
    url,
    pid: child.pid ?? 0,
    async memory() {
      const answer = next('memory-is');
      child.send({ type: 'memory' } satisfies StreamsServerMessage);
      const m = await answer;
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    async stop() {
      child.send({ type: 'stop' } satisfies StreamsServerMessage);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  }));
}

// ---- the streams -------------------------------------------------------------------------------

/**
 * `count` streams of `/v1/events`, each its own connection. A stream notes when a frame with an id
 * arrives (comments are keepalives); `round()` arms all of them for the next event.
 */
class Streams {
  private readonly responses: IncomingMessage[] = [];
  /** performance.now() of the current round's event on each stream, or NaN before it came. */
  private arrived = new Float64Array(0);
  private pending = 0;
  private done: (() => void) | null = null;
  /** A stream ended under a round: the figures would be wrong, so the run stops. */
  private failed: ((err: Error) => void) | null = null;
  private closing = false;

  static async open(url: string, key: string, count: number): Promise<Streams> {
    const s = new Streams();
    s.arrived = new Float64Array(count).fill(Number.NaN);
    for (let from = 0; from < count; from += OPENING) {
      const batch = Array.from({ length: Math.min(OPENING, count - from) }, (_, i) => s.connect(url, key, from + i));
      await Promise.all(batch);
    }
    return s;
  }

  private connect(url: string, key: string, index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${url}/v1/events`,
        { agent: false, headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`stream ${index}: ${res.statusCode}`));
            return;
          }
          this.responses.push(res);
          res.setEncoding('latin1');
          let opened = false;
          res.on('data', (chunk: string) => {
            if (!opened) {
              // The `retry:` line comes once the stream is registered: it is live from here.
              opened = true;
              resolve();
            }
            if (chunk.includes('\nid: ') || chunk.startsWith('id: ')) this.arrive(index);
          });
          res.once('close', () => {
            if (!opened) reject(new Error(`stream ${index} ended before it opened`));
            else if (!this.closing) this.failed?.(new Error(`stream ${index} ended: the server closed it`));
          });
        },
      );
      req.once('error', reject);
      req.end();
    });
  }

  private arrive(index: number): void {
    if (!Number.isNaN(this.arrived[index]!)) return;
    this.arrived[index] = performance.now();
    if (--this.pending === 0) this.done?.();
  }

  /** Runs `send` (which causes one event) and resolves with each stream's arrival time, once all have it. */
  async round(send: () => Promise<void>, timeoutMs = 120_000): Promise<Float64Array> {
    this.arrived.fill(Number.NaN);
    this.pending = this.arrived.length;
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.pending} streams did not get the event`)), timeoutMs);
      this.done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.failed = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });
    await send();
    await all;
    return this.arrived.slice();
  }

  get count(): number {
    return this.arrived.length;
  }

  close(): void {
    this.closing = true;
    for (const r of this.responses) r.destroy();
  }
}

// ---- one backend -------------------------------------------------------------------------------

interface Delivery {
  /** Over every (event, stream): from sending the PATCH to the frame's arrival. */
  perStream: LatencySummary;
  /** Median over events of the time until the last stream had it. */
  allReachedMs: number;
  /** CPU ms per event (its PATCH included): the server, PostgreSQL, the clients (this process). */
  cpuMsPerEvent: { server: number; postgres: number | null; clients: number };
}

interface BackendResult {
  backend: string;
  streams: number;
  openSeconds: number;
  memory: { rssPerStreamKiB: number; heapPerStreamKiB: number; rssBaseMiB: number; heapBaseMiB: number };
  baseline: Delivery;
  loaded: Delivery;
}

async function deliver(
  server: Server,
  key: string,
  taskId: string,
  streams: Streams,
  postgres: { sample(): number | null } | null,
  events: number,
): Promise<Delivery> {
  const samples = new LatencySamples();
  const allReached: number[] = [];
  const [server0, pg0, clients0] = [pidCpuSeconds(server.pid) ?? 0, postgres?.sample() ?? 0, process.cpuUsage()];
  for (let i = 0; i < events; i++) {
    let sentAt = 0;
    const arrived = await streams.round(async () => {
      sentAt = performance.now();
      const res = await fetch(`${server.url}/v1/tasks/${taskId}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `event ${i}` }),
      });
      if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${await res.text()}`);
    });
    let last = 0;
    for (const at of arrived) {
      samples.push(at - sentAt);
      last = Math.max(last, at - sentAt);
    }
    allReached.push(last);
  }
  const clients = process.cpuUsage(clients0);
  return {
    perStream: samples.summary(),
    allReachedMs: median(allReached),
    cpuMsPerEvent: {
      server: (((pidCpuSeconds(server.pid) ?? 0) - server0) * 1e3) / events,
      postgres: postgres === null ? null : (((postgres.sample() ?? 0) - pg0) * 1e3) / events,
      clients: (clients.user + clients.system) / 1e3 / events,
    },
  };
}

async function measure(backend: string): Promise<BackendResult> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tasklane-streams-'));
  let db: BenchDatabase | null = null;
  let server: Server | null = null;
  try {
    if (backend === 'pg') db = await createDatabase(PG, `tlstreams_${Date.now()}`);
    const key = newRootKey();
    server = await startServer({
      BENCH_DATA_DIR: dataDir,
      BENCH_ROOT_KEY: key,
      BENCH_DATABASE_URL: db?.url ?? '',
    });
    const created = await fetch(`${server.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'bench.streams' }),
    });
    const taskId = ((await created.json()) as { id: string }).id;
    const postgres = db === null ? null : cpuOfProcesses(postgresBackendsOf(db.name));

    const one = await Streams.open(server.url, key, 1);
    const baseline = await deliver(server, key, taskId, one, postgres, BASELINE_EVENTS);
    one.close();

    const before = await server.memory();
    const openedAt = performance.now();
    const many = await Streams.open(server.url, key, STREAMS);
    const openSeconds = (performance.now() - openedAt) / 1000;
    const after = await server.memory();
    const loaded = await deliver(server, key, taskId, many, postgres, EVENTS);
    many.close();
    const kib = (bytes: number) => bytes / 1024 / STREAMS;
    return {
      backend,
      streams: STREAMS,
      openSeconds,
      memory: {
        rssPerStreamKiB: kib(after.rss - before.rss),
        heapPerStreamKiB: kib(after.heapUsed - before.heapUsed),
        rssBaseMiB: before.rss / 2 ** 20,
        heapBaseMiB: before.heapUsed / 2 ** 20,
      },
      baseline,
      loaded,
    };
  } finally {
    await server?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---- running -----------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Re-runs this process under `ulimit -n need` when its limit is lower (and exits with its status). */
function raiseFileLimit(need: number): void {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  if (!Number.isFinite(limit) || limit >= need || process.env.BENCH_RAISED_FDS === '1') return;
  console.error(`open files: the limit is ${limit}, ${need} are needed: running again under \`ulimit -n ${need}\``);
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const quoted = [process.execPath, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const run = spawnSync('sh', ['-c', `ulimit -n ${need} && exec ${quoted}`], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_RAISED_FDS: '1' },
  });
  if (run.status !== 0 && run.signal === null) {
    console.error('could not raise the limit: raising the hard limit (`ulimit -Hn`) needs root (CAP_SYS_RESOURCE)');
  }
  process.exit(run.status ?? 1);
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const cpu = (d: Delivery) =>
  [d.cpuMsPerEvent.server, d.cpuMsPerEvent.postgres, d.cpuMsPerEvent.clients]
    .map((v) => (v === null ? '-' : fmt(v, 2)))
    .join(' / ');
/** The server's CPU per event for each stream beyond the first. */
const perStreamUs = (r: BackendResult) =>
  ((r.loaded.cpuMsPerEvent.server - r.baseline.cpuMsPerEvent.server) * 1e3) / (r.streams - 1);
const results: BackendResult[] = [];
console.error(
  `${STREAMS} streams of GET /v1/events on one node, ${EVENTS} events; baseline: 1 stream, ${BASELINE_EVENTS} events, same run`,
);
for (const backend of BACKENDS) {
  if (backend !== 'sqlite' && backend !== 'pg') throw new Error(`--backends: sqlite or pg, not ${backend}`);
  const r = await measure(backend);
  results.push(r);
  const b = r.baseline.perStream;
  const l = r.loaded.perStream;
  console.error(
    `${backend}: opened ${r.streams} streams in ${fmt(r.openSeconds)} s; ` +
      `memory per stream ${fmt(r.memory.rssPerStreamKiB)} KiB RSS, ${fmt(r.memory.heapPerStreamKiB)} KiB heap ` +
      `(server with none: ${fmt(r.memory.rssBaseMiB)} MiB RSS, ${fmt(r.memory.heapBaseMiB)} MiB heap)\n` +
      `  1 stream:      p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms\n` +
      `  ${r.streams} streams: p50 ${fmt(l.p50)} ms (${fmt(l.p50 / b.p50)}x), p99 ${fmt(l.p99)} ms (${fmt(l.p99 / b.p99)}x); ` +
      `every stream had it after ${fmt(r.loaded.allReachedMs)} ms (median of ${EVENTS} events)\n` +
      `  CPU per event, server / postgres / clients: 1 stream ${cpu(r.baseline)} ms; ${r.streams} streams ` +
      `${cpu(r.loaded)} ms (server ${fmt(r.loaded.cpuMsPerEvent.server / r.baseline.cpuMsPerEvent.server)}x: ` +
      `${fmt(perStreamUs(r), 2)} µs more per stream)`,
  );
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `event-streams-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      options: { backends: BACKENDS, streams: STREAMS, events: EVENTS, baselineEvents: BASELINE_EVENTS },
      machine: machineInfo(),
      code: codeVersion(),
      results,
    },
    null,
    2,
  ),
);
console.error(`results: ${file}`);
