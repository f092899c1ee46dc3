import type { PgDatabaseStats } from './pg-admin.js';

/**
 * The shape every system in the end-to-end throughput benchmark (`e2e-throughput.ts`) takes: a
 * parent side (storage, servers, enqueueing, checks) and a worker side that runs in child
 * processes. Tasklane (`e2e-tasklane.ts`) and each peer (`../peers/`) implement both.
 */

/** Milliseconds on CLOCK_MONOTONIC: the same clock in every process of the machine (Linux). */
export const hrNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Where the peers and Tasklane keep their data; each run makes its own database or prefix there. */
export interface BenchEnv {
  /** A PostgreSQL server URL without a database, e.g. postgres://postgres@127.0.0.1:5432 */
  pgServer: string;
  redisUrl: string;
  /** Unique per benchmark invocation; database names, prefixes and temp dirs carry it. */
  stamp: string;
  /** Worker processes the orchestrator will start (the Tasklane nodes spread them). */
  workers: number;
  /** Per worker process: Tasklane's and BullMQ's `concurrency` (peers map it to their own knobs). */
  concurrency: number;
  /** Write a V8 CPU profile of each Tasklane server node over the measured run to this dir. */
  profileDir: string | null;
  log: (line: string) => void;
}

export interface ProcessRef {
  name: string;
  pid: number;
}

export interface Backend {
  /** Short id used on the command line (`--backends=`). */
  id: string;
  /** What the table shows, with the version. */
  label: string;
  storage: 'sqlite' | 'postgres' | 'redis';
  /** Creates the storage and starts the servers (if any). */
  prepare(env: BenchEnv): Promise<Prepared>;
}

export interface Prepared {
  /** The settings this run used, recorded in the result file. */
  settings: Record<string, unknown>;
  /** The module whose `runWorker` a worker child runs (this backend's own module). */
  workerModule: URL;
  /** Settings handed to worker child `index` (JSON). */
  workerConfig(index: number): unknown;
  /** Environment variables for the worker children (read by libraries when they load). */
  workerEnv?: Record<string, string>;
  /** Server processes of the system (Tasklane nodes), for CPU accounting. */
  servers: ProcessRef[];
  /** CPU seconds used so far by the storage's processes (the database backends, Redis), or null. */
  storageCpuSeconds(): number | null;
  /** Enqueue `size` no-op jobs in one bulk call. `batchNo` spreads batches over nodes. */
  addBatch(size: number, batchNo: number): Promise<void>;
  /** Enqueue one job carrying `probe`; the worker that picks it up reports the moment. */
  addProbe(probe: number): Promise<void>;
  /**
   * Resolves once `total` jobs (since start) are completed durably, for systems whose workers can
   * only tell that their handler returned. Omitted: the workers' counts are durable already.
   */
  settled?(total: number): Promise<void>;
  /** Completed (or, for systems that delete finished jobs, no longer pending) counts, read from storage. */
  check(): Promise<{ completed: number | null; pending: number }>;
  /** With BenchEnv.profileDir: CPU profiles of the server processes over the measured run. */
  profile?: { start(): void; stop(): Promise<Array<{ server: string; file: string }>> };
  /** Counters of the parent side (the enqueueing client), like the workers' `count`. */
  counters?(): Record<string, number>;
  /**
   * Stops the servers and pools, reads what PostgreSQL counted for the database (null for other
   * storage), and removes the storage.
   */
  teardown(): Promise<PgDatabaseStats | null>;
}

/** What a worker child's backend code gets. */
export interface WorkerContext {
  config: unknown;
  index: number;
  concurrency: number;
  /** A handler saw a probe job (call first thing in the handler). */
  probe(probe: number): void;
  /** `n` more jobs finished (durably, where the system says so; see `Prepared.settled`). */
  completed(n: number): void;
  /** A handler ran (counts executions, to check exactly-once). */
  handled(): void;
  /** Adds to a named counter (HTTP requests and bytes, say), summed over the workers. */
  count(name: string, n: number): void;
}

export interface RunningWorker {
  stop(): Promise<void>;
}

/** Every backend module exports this for the worker child. */
export type RunWorker = (ctx: WorkerContext) => Promise<RunningWorker>;

export type ToChild = { type: 'stop' };
export type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; completed: number; handled: number; at: number; counters: Record<string, number> }
  | { type: 'probe'; probe: number; at: number }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

/** The payload field a probe job carries (every system: `{ probe: n }`; throughput jobs: `{}`). */
export function probeOf(payload: unknown): number | null {
  const p = (payload as { probe?: unknown } | null | undefined)?.probe;
  return typeof p === 'number' ? p : null;
}
