/**
 * The worker loop: claim tasks of some types in batches, run a handler on each with up to
 * `concurrency` at once, heartbeat on the handler's behalf, and report the outcome.
 *
 * - The handler gets an AbortSignal that fires when the task is canceled or the lease is lost
 *   (a heartbeat answered TASK_CANCELED or LEASE_LOST) or when the worker is told to stop and the
 *   grace period ends. Its result then goes nowhere: the task is someone else's now.
 * - Completions, failures and heartbeats are sent in batches through `POST /v1/tasks/reports` (a
 *   busy worker makes one request for many tasks). A slot is free once its handler returns: the
 *   worker claims again while the reports are on their way.
 * - `stop()` (and SIGTERM/SIGINT when `handleSignals`) stops claiming, lets running handlers finish
 *   for `shutdownGraceMs`, releases what is still held (no retry spent), and resolves.
 */
import { TasklaneClient } from './client.js';
import { TasklaneApiError } from './errors.js';
import type { Report, ReportsResult, Task } from './schemas/index.js';

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

/**
 * One task a handler is running. Kept small because a busy worker makes one per task: its
 * AbortController is made only when the handler reads `ctx.signal` (or the task is lost first),
 * and heartbeats come from one ticker for the whole worker instead of a timer per task.
 */
class Running {
  /** When the last heartbeat (or the claim) went out. */
  beatAt = Date.now();
  /** Progress and steps not sent yet: they go with the next heartbeat. */
  pending: { progress?: number; progressMessage?: string } = {};
  steps: Array<{ message: string; data?: unknown }> = [];
  finished: Promise<void> = Promise.resolve();
  private controller: AbortController | null = null;
  private lostReason: unknown = undefined;
  lost = false;

  constructor(
    readonly task: Task,
    readonly leaseId: string,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.lost) this.controller.abort(this.lostReason);
    }
    return this.controller.signal;
  }

  /** The task is not this worker's any more (canceled, lease lost, stop grace over). */
  abort(reason: unknown): void {
    if (this.lost) return;
    this.lost = true;
    this.lostReason = reason;
    this.controller?.abort(reason);
  }

  /** The heartbeat report for what is pending now (which is then no longer pending). */
  heartbeat(): Report {
    const report: Report = { taskId: this.task.id, action: 'heartbeat', leaseId: this.leaseId, ...this.pending };
    if (this.steps.length > 0) report.steps = this.steps;
    this.pending = {};
    this.steps = [];
    this.beatAt = Date.now();
    return report;
  }
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
  /** Reports sent (or queued) and not answered yet; claims wait while there are too many. */
  let unacknowledged = 0;

  /** Send the task's heartbeat (with its pending progress and steps); a lost lease aborts it. */
  const heartbeat = async (entry: Running): Promise<void> => {
    if (entry.lost) return;
    const result = await reporter.send(entry.heartbeat());
    const code = result?.error?.code;
    if (result?.error !== undefined && (code === 'LEASE_LOST' || code === 'TASK_CANCELED')) {
      entry.abort(
        new TasklaneApiError({
          status: result.error.status,
          code: result.error.code,
          detail: result.error.detail,
          requestId: null,
          retryAfter: null,
          problem: null,
        }),
      );
    }
  };

  // One ticker heartbeats every task whose last heartbeat is a third of a lease old: it ticks
  // twice as often, so no task goes longer than half a lease without one.
  const beatEvery = Math.max(250, Math.floor(leaseMs / 3));
  const ticker = setInterval(
    () => {
      const due = Date.now() - beatEvery;
      for (const entry of running.values()) if (entry.beatAt <= due) void heartbeat(entry);
    },
    Math.floor(beatEvery / 2),
  );
  ticker.unref();

  const runOne = async (entry: Running): Promise<void> => {
    const ctx: TaskContext = {
      get signal() {
        return entry.signal;
      },
      leaseId: entry.leaseId,
      progress: (p, message) => {
        entry.pending = { progress: p, ...(message === undefined ? {} : { progressMessage: message }) };
        return heartbeat(entry);
      },
      step: (message, data) => {
        entry.steps.push(data === undefined ? { message } : { message, data });
        return heartbeat(entry);
      },
    };
    let report: Report;
    try {
      const result = await opts.handler(entry.task, ctx);
      report = {
        taskId: entry.task.id,
        action: 'complete',
        leaseId: entry.leaseId,
        ...(result === undefined ? {} : { result }),
      };
    } catch (err) {
      report = failureReport(entry.task.id, entry.leaseId, err);
    }
    // A task whose lease is gone (canceled, expired, released at shutdown) is not ours to report on.
    // The slot is free once the handler is done: the report goes out with the next batch while the
    // worker claims again, so claims and reports overlap instead of taking turns.
    if (!entry.lost) {
      unacknowledged++;
      void reporter.send(report).finally(() => {
        unacknowledged--;
        slotFreed?.();
      });
    }
  };

  const start = (task: Task) => {
    const leaseId = task.lease?.id;
    if (leaseId === undefined) return onError(new Error(`claimed task ${task.id} came without a lease id`));
    const entry = new Running(task, leaseId);
    entry.finished = runOne(entry)
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
      // worker makes one claim per many tasks instead of one per freed slot. And hold claims while
      // more reports than `concurrency` wait for their answer: a server slow to take reports is
      // not handed more work.
      if (free <= 0 || (running.size > 0 && free < Math.ceil(concurrency / 2)) || unacknowledged > concurrency) {
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
    for (const r of left) r.abort(new Error('worker stopping'));
    await Promise.all(
      left.map((r) => client.workers.release(r.task.id, { leaseId: r.leaseId }).catch((err: unknown) => onError(err))),
    );
    await reporter.flush();
    clearInterval(ticker);
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

type ReportResult = ReportsResult['results'][number];

/**
 * Collects reports for a moment (until the event loop turns, or 100 are waiting) and sends them
 * as one `POST /v1/tasks/reports`. Each caller gets its own item's result, or undefined when the
 * request failed as a whole (that error goes to onError).
 */
class ReportBatcher {
  private queue: Array<{ report: Report; resolve: (result: ReportResult | undefined) => void }> = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: TasklaneClient,
    private readonly onError: (err: unknown) => void,
  ) {}

  send(report: Report): Promise<ReportResult | undefined> {
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
      let results: ReportResult[] = [];
      try {
        results = await this.client.workers.reports(batch.map((b) => b.report));
        for (const r of results) {
          const code = r.error?.code;
          if (!r.ok && r.error && code !== 'LEASE_LOST' && code !== 'TASK_CANCELED') {
            this.onError(new Error(`report on ${r.taskId} refused: ${code}: ${r.error.detail}`));
          }
        }
      } catch (err) {
        this.onError(err);
      } finally {
        batch.forEach((b, i) => b.resolve(results[i]));
      }
    });
    return this.inFlight;
  }
}

function requireOpt(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new Error(`createWorker: '${name}' is required (or pass a client)`);
  return value;
}
