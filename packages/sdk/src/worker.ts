/**
 * The worker loop: claim tasks of some types in batches, run a handler on each with up to
 * `concurrency` at once, heartbeat on the handler's behalf, and report the outcome.
 *
 * - The handler gets an AbortSignal that fires when the task is canceled or the lease is lost
 *   (a heartbeat answered TASK_CANCELED or LEASE_LOST) or when the worker is told to stop and the
 *   grace period ends. Its result then goes nowhere: the task is someone else's now.
 * - Completions and failures are sent in batches through `POST /v1/tasks/reports` (a busy worker
 *   makes one request for many tasks), heartbeats one by one.
 * - `stop()` (and SIGTERM/SIGINT when `handleSignals`) stops claiming, lets running handlers finish
 *   for `shutdownGraceMs`, releases what is still held (no retry spent), and resolves.
 */
import { TasklaneClient } from './client.js';
import { TasklaneApiError } from './errors.js';
import type { Report, Task } from './schemas/index.js';

export interface TaskContext {
  /** Fires on cancel, lost lease, or the end of the stop grace period. */
  signal: AbortSignal;
  leaseId: string;
  /** Report progress (0..1) and a message; sent with the next heartbeat, which is made at once. */
  progress(progress: number, message?: string): Promise<void>;
  /** Append a step to the task's history (sent at once with a heartbeat). */
  step(message: string, data?: unknown): Promise<void>;
}

/** Throw this (or any error with `retryable: false`) to fail the task for good. */
export class PermanentError extends Error {
  readonly retryable = false;
  constructor(
    message: string,
    readonly code = 'PERMANENT',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface WorkerOptions<R = unknown> {
  url?: string;
  key?: string;
  /** Use this client instead of one made from url and key. */
  client?: TasklaneClient;
  types: string[];
  handler: (task: Task, ctx: TaskContext) => Promise<R> | R;
  /** Handlers running at once (default 1). */
  concurrency?: number;
  workerId?: string;
  /** Lease asked for at claim (default 30 s); heartbeats go out every third of it. */
  leaseMs?: number;
  /** How long one claim waits on the server for work (default 20 s). */
  waitMs?: number;
  /** How long `stop()` lets running handlers finish before releasing their tasks (default 10 s). */
  shutdownGraceMs?: number;
  /** Stop on SIGTERM and SIGINT (default true). */
  handleSignals?: boolean;
  /** Called with errors the loop recovers from (a failed claim, a report that could not be sent). */
  onError?: (err: unknown) => void;
}

export interface Worker {
  /** Resolves when the loop has stopped. */
  readonly done: Promise<void>;
  /** Handlers running now. */
  readonly running: number;
  /** Stop claiming, finish or release what is held, then resolve. */
  stop(): Promise<void>;
}

interface Running {
  task: Task;
  leaseId: string;
  abort: AbortController;
  finished: Promise<void>;
}

const DEFAULTS = { concurrency: 1, leaseMs: 30_000, waitMs: 20_000, shutdownGraceMs: 10_000 };

export function createWorker<R>(opts: WorkerOptions<R>): Worker {
  const client =
    opts.client ?? new TasklaneClient({ url: requireOpt(opts.url, 'url'), key: requireOpt(opts.key, 'key') });
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULTS.concurrency));
  const leaseMs = opts.leaseMs ?? DEFAULTS.leaseMs;
  const workerId = opts.workerId ?? `worker-${Math.random().toString(36).slice(2, 10)}`;
  const onError = opts.onError ?? (() => undefined);
  const running = new Map<string, Running>();
  const stopping = new AbortController();
  const reporter = new ReportBatcher(client, onError);
  let slotFreed: (() => void) | null = null;

  const runOne = async (task: Task, leaseId: string, abort: AbortController): Promise<void> => {
    const lost = (err: unknown) => {
      if (err instanceof TasklaneApiError && (err.code === 'LEASE_LOST' || err.code === 'TASK_CANCELED')) {
        abort.abort(err);
        return true;
      }
      return false;
    };
    let progress: { progress?: number; progressMessage?: string } = {};
    let steps: Array<{ message: string; data?: unknown }> = [];
    const heartbeat = async () => {
      if (abort.signal.aborted) return;
      const body = { leaseId, ...progress, ...(steps.length > 0 ? { steps } : {}) };
      progress = {};
      steps = [];
      try {
        await client.workers.heartbeat(task.id, body);
      } catch (err) {
        if (!lost(err)) onError(err);
      }
    };
    const timer = setInterval(() => void heartbeat(), Math.max(250, Math.floor(leaseMs / 3)));
    const ctx: TaskContext = {
      signal: abort.signal,
      leaseId,
      progress: async (p, message) => {
        progress = { progress: p, ...(message === undefined ? {} : { progressMessage: message }) };
        await heartbeat();
      },
      step: async (message, data) => {
        steps.push(data === undefined ? { message } : { message, data });
        await heartbeat();
      },
    };
    try {
      let report: Report;
      try {
        const result = await opts.handler(task, ctx);
        report = { taskId: task.id, action: 'complete', leaseId, ...(result === undefined ? {} : { result }) };
      } catch (err) {
        report = failureReport(task.id, leaseId, err);
      }
      // A task whose lease is gone (canceled, expired, released at shutdown) is not ours to report on.
      if (!abort.signal.aborted) await reporter.send(report);
    } finally {
      clearInterval(timer);
    }
  };

  const start = (task: Task) => {
    const leaseId = task.lease?.id;
    if (leaseId === undefined) return onError(new Error(`claimed task ${task.id} came without a lease id`));
    const entry: Running = { task, leaseId, abort: new AbortController(), finished: Promise.resolve() };
    entry.finished = runOne(task, leaseId, entry.abort)
      .catch(onError)
      .finally(() => {
        running.delete(task.id);
        slotFreed?.();
      });
    running.set(task.id, entry);
  };

  const loop = async () => {
    while (!stopping.signal.aborted) {
      const free = concurrency - running.size;
      // Claim in batches: while handlers run, wait until half the slots are free, so that a busy
      // worker makes one claim per many tasks instead of one per freed slot.
      if (free <= 0 || (running.size > 0 && free < Math.ceil(concurrency / 2))) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = null;
        continue;
      }
      try {
        const tasks = await client.workers.claim(
          { types: opts.types, workerId, limit: Math.min(free, 100), leaseMs, waitMs: opts.waitMs ?? DEFAULTS.waitMs },
          { signal: stopping.signal },
        );
        for (const task of tasks) start(task);
      } catch (err) {
        if (stopping.signal.aborted) break;
        onError(err);
        // The server is unreachable or refused: back off a little, then try again.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  const done = (async () => {
    await loop();
    // Stopping: let running handlers finish for the grace period, then give back what is left.
    const grace = new Promise((resolve) =>
      setTimeout(resolve, opts.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs).unref(),
    );
    await Promise.race([Promise.all([...running.values()].map((r) => r.finished)), grace]);
    const left = [...running.values()];
    for (const r of left) r.abort.abort(new Error('worker stopping'));
    await Promise.all(
      left.map((r) => client.workers.release(r.task.id, { leaseId: r.leaseId }).catch((err: unknown) => onError(err))),
    );
    await reporter.flush();
  })();

  const stop = () => {
    stopping.abort();
    slotFreed?.();
    return done;
  };
  if (opts.handleSignals !== false) {
    const onSignal = () => void stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void done.finally(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }
  return {
    done,
    get running() {
      return running.size;
    },
    stop,
  };
}

function failureReport(taskId: string, leaseId: string, err: unknown): Report {
  const e = err as {
    message?: unknown;
    code?: unknown;
    retryable?: unknown;
    retryAfterMs?: unknown;
    details?: unknown;
  };
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  return {
    taskId,
    action: 'fail',
    leaseId,
    error: {
      code: typeof e?.code === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(e.code) ? e.code : 'HANDLER_ERROR',
      message: message.slice(0, 10_000),
    },
    ...(e?.retryable === false ? { retryable: false } : {}),
    ...(typeof e?.retryAfterMs === 'number' ? { retryAfterMs: Math.max(0, Math.floor(e.retryAfterMs)) } : {}),
  };
}

/**
 * Collects reports for a moment (until the event loop turns, or 100 are waiting) and sends them
 * as one `POST /v1/tasks/reports`. Each caller learns its own item's outcome.
 */
class ReportBatcher {
  private queue: Array<{ report: Report; resolve: () => void }> = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: TasklaneClient,
    private readonly onError: (err: unknown) => void,
  ) {}

  send(report: Report): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ report, resolve });
      if (this.queue.length >= 100) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, 1000);
    if (batch.length === 0) return this.inFlight;
    this.inFlight = this.inFlight.then(async () => {
      try {
        const results = await this.client.workers.reports(batch.map((b) => b.report));
        for (const r of results) {
          if (!r.ok && r.error && r.error.code !== 'LEASE_LOST' && r.error.code !== 'TASK_CANCELED') {
            this.onError(new Error(`report on ${r.taskId} refused: ${r.error.code}: ${r.error.detail}`));
          }
        }
      } catch (err) {
        this.onError(err);
      } finally {
        for (const b of batch) b.resolve();
      }
    });
    return this.inFlight;
  }
}

function requireOpt(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new Error(`createWorker: '${name}' is required (or pass a client)`);
  return value;
}
