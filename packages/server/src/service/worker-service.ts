/**
 * The worker side (SPEC §5): claim, heartbeat, complete, fail, release, batched reports.
 *
 * Safety rests on two things. (1) Each call is one `store.write` unit that reads its tasks locked
 * (`getTaskForUpdate`, or `getTasksForUpdate` for a chunk of reports, `claimable` for a claim), so
 * two calls on one task never interleave. (2) Fencing: every claim makes a
 * new lease id, and every report must name the current one, checked inside that unit; a worker
 * whose lease expired and was handed to another gets LEASE_LOST and changes nothing.
 * Claims of a type take the type's lock (`lockType`) first, so concurrency and rate limits are
 * counted and spent in the same unit on every node.
 */
import type { Clock } from '../domain/clock.js';
import { TasklaneError } from '../domain/errors.js';
import { DEFAULT_LEASE_MS, type Json, type Step, type Task } from '../domain/task.js';
import type { TransitionEvent } from '../domain/transitions.js';
import type { NewEvent, StoreReader, StoreWriter, TaskStore, TypeConfig } from '../storage/task-store.js';
import type { ChangeHub } from './change-hub.js';
import { UUID_PATTERN, newLeaseId } from './ids.js';
import { changeEvent, stepEvents } from './task-events.js';
import { checkReport } from './task-rules.js';
import { findTask, findTaskForUpdate, isTaskRef, taskNotFound } from './task-lookup.js';
import { withSteps, type TaskView } from './task-view.js';
import type { TaskWriter } from './task-writer.js';

export interface ClaimRequest {
  types: string[];
  workerId: string;
  limit: number;
  leaseMs?: number | undefined;
  /** Hold the request up to this long (wall time) until something is claimable. */
  waitMs: number;
}

export interface Lease {
  leaseId: string;
}

export interface HeartbeatInput extends Lease {
  progress?: number | undefined;
  progressMessage?: string | undefined;
  steps?: Array<{ message: string; data?: unknown }> | undefined;
  extendMs?: number | undefined;
}

export interface CompleteInput extends Lease {
  result?: unknown;
  review?: boolean | undefined;
}

export interface FailInput extends Lease {
  error: { code?: string | undefined; message: string; details?: unknown };
  retryable?: boolean | undefined;
  retryAfterMs?: number | undefined;
}

export interface ReleaseInput extends Lease {
  delayMs?: number | undefined;
}

export type Report =
  | ({ taskId: string; action: 'heartbeat' } & HeartbeatInput)
  | ({ taskId: string; action: 'complete' } & CompleteInput)
  | ({ taskId: string; action: 'fail' } & FailInput)
  | ({ taskId: string; action: 'release' } & ReleaseInput);

export type ReportResult =
  { taskId: string; ok: true; task: Task } | { taskId: string; ok: false; error: TasklaneError };

const REPORTS_PER_UNIT = 200;

export class WorkerService {
  constructor(
    private readonly store: TaskStore,
    private readonly writer: TaskWriter,
    private readonly changes: ChangeHub,
    private readonly clock: Clock,
  ) {}

  /**
   * Claim up to `limit` tasks of `types`: highest priority first, then runAt/queuedAt, then id.
   * With `waitMs`, holds until something is claimable (woken by the commit that made it so, or
   * by the timer of the earliest future runAt) or the time passes.
   */
  async claim(orgId: string, req: ClaimRequest, signal?: AbortSignal): Promise<TaskView[]> {
    const types = [...new Set(req.types)];
    if (req.waitMs <= 0) return (await this.claimNow(orgId, types, req)).views;
    const deadline = Date.now() + req.waitMs;
    // Armed before the first attempt, so a task queued between the attempt and the wait wakes it.
    const waiter = this.changes.watchClaimable(orgId, types, signal);
    try {
      for (;;) {
        const { views, nextRunAt } = await this.claimNow(orgId, types, req);
        const left = deadline - Date.now();
        if (views.length > 0 || left <= 0 || signal?.aborted) return views;
        const untilDue = nextRunAt === null ? left : Math.max(1, nextRunAt - this.clock.now());
        await waiter.next(Math.min(left, untilDue));
      }
    } finally {
      waiter.close();
    }
  }

  private claimNow(
    orgId: string,
    types: string[],
    req: ClaimRequest,
  ): Promise<{ views: TaskView[]; nextRunAt: number | null }> {
    return this.store.write(async (tx) => {
      // Types with a concurrency or rate limit are locked (in a fixed order: no deadlock between
      // claimers of overlapping sets) so the limit is counted and spent by one claimer at a time.
      // Types without limits need no lock: the rows a claim takes are exclusive already.
      const configs = new Map<string, TypeConfig | null>();
      for (const type of [...types].sort()) configs.set(type, await this.typeForClaim(tx, orgId, type));
      const allowance = new Map<string, number>();
      // When a rate limit holds a type back, the moment its window frees a claim is a reason to
      // wake up too (no task change would announce it).
      let refillAt: number | null = null;
      for (const [type, config] of configs) {
        const a = await this.allowanceOf(tx, orgId, type, config, req.limit);
        allowance.set(type, a.allowed);
        if (a.refillAt !== null && (refillAt === null || a.refillAt < refillAt)) refillAt = a.refillAt;
      }
      const open = types.filter((t) => (allowance.get(t) ?? 0) > 0);
      const candidates = open.length === 0 ? [] : await this.candidates(tx, orgId, open, allowance, req.limit);
      const claimed = candidates.map((task) => {
        const config = configs.get(task.type) ?? null;
        const leaseMs = req.leaseMs ?? task.leaseMs ?? config?.defaults.leaseMs ?? DEFAULT_LEASE_MS;
        return this.writer.next(tx, task, { name: 'claim', leaseId: newLeaseId(), workerId: req.workerId, leaseMs });
      });
      // The candidates are locked by `claimable`: written as one set, with one event each.
      await this.writer.saveMany(
        tx,
        orgId,
        claimed.map((after, i) => ({ before: candidates[i] as Task, after })),
        claimed.map((after, i) => changeEvent(candidates[i] as Task, after, 'claim')),
      );
      // The claim log: what rate limits and the insights' claims per minute count.
      if (claimed.length > 0) await tx.recordClaims(orgId, countByType(claimed));
      const views = await withSteps(tx, orgId, claimed);
      if (claimed.length > 0) return { views, nextRunAt: null };
      const due = await tx.nextRunAt(orgId, types);
      return { views, nextRunAt: due === null ? refillAt : refillAt === null ? due : Math.min(due, refillAt) };
    });
  }

  /** The type's settings, locked for this unit when they carry a limit. */
  private async typeForClaim(tx: StoreWriter, orgId: string, type: string): Promise<TypeConfig | null> {
    const config = await tx.getTypeConfig(orgId, type);
    return config !== null && (config.concurrency !== null || config.rateLimit !== null)
      ? tx.lockType(orgId, type)
      : config;
  }

  /**
   * How many tasks of this type one claim may still take (the limit, minus concurrency and rate
   * use), and, when the rate limit is what stops it, when the window frees the next claim.
   */
  private async allowanceOf(
    tx: StoreWriter,
    orgId: string,
    type: string,
    config: TypeConfig | null,
    limit: number,
  ): Promise<{ allowed: number; refillAt: number | null }> {
    let allowed = limit;
    let refillAt: number | null = null;
    if (config?.concurrency != null) {
      allowed = Math.min(allowed, config.concurrency - (await tx.countInProgress(orgId, type)));
    }
    if (config?.rateLimit != null) {
      const since = tx.now - config.rateLimit.perMs + 1;
      const left = config.rateLimit.count - (await tx.countClaims(orgId, since, type));
      if (left <= 0) {
        const first = await tx.firstClaimSince(orgId, type, since);
        refillAt = first === null ? tx.now + 1 : first + config.rateLimit.perMs;
      }
      allowed = Math.min(allowed, left);
    }
    return { allowed: Math.max(0, allowed), refillAt };
  }

  /** The next `limit` tasks in claim order, with no type over its allowance. */
  private async candidates(
    tx: StoreWriter,
    orgId: string,
    types: string[],
    allowance: Map<string, number>,
    limit: number,
  ): Promise<Task[]> {
    return tx.claimable(orgId, types, limit, allowance);
  }

  /** Claim one given task (an agent picking a card). */
  async claimOne(
    orgId: string,
    ref: string,
    input: { workerId: string; leaseMs?: number | undefined },
  ): Promise<TaskView> {
    return this.store.write(async (tx) => {
      // Type lock first, then the row: the same order as a claim by type.
      const config = await this.typeForClaim(tx, orgId, (await findTask(tx, orgId, ref)).type);
      const task = await findTaskForUpdate(tx, orgId, ref);
      if (task.status === 'queued' && task.runAt !== null && task.runAt > tx.now) {
        throw new TasklaneError(
          'INVALID_TRANSITION',
          `The task is not claimable before ${new Date(task.runAt).toISOString()}.`,
        );
      }
      if (task.status === 'queued' && (await this.allowanceOf(tx, orgId, task.type, config, 1)).allowed < 1) {
        throw new TasklaneError('RATE_LIMITED', `Type '${task.type}' is at its concurrency or rate limit.`, {
          headers: { 'retry-after': '1' },
        });
      }
      const leaseMs = input.leaseMs ?? task.leaseMs ?? config?.defaults.leaseMs ?? DEFAULT_LEASE_MS;
      const next = await this.writer.transition(tx, task, {
        name: 'claim',
        leaseId: newLeaseId(),
        workerId: input.workerId,
        leaseMs,
      });
      await tx.recordClaims(orgId, [{ type: next.type, count: 1 }]);
      return { task: next, steps: await tx.getSteps(orgId, next.id) };
    });
  }

  async heartbeat(orgId: string, ref: string, input: HeartbeatInput): Promise<TaskView> {
    checkReport({ action: 'heartbeat', ...input });
    return this.withView(orgId, async (tx) => {
      const task = await this.report(tx, orgId, { taskId: ref, action: 'heartbeat', ...input });
      return input.steps !== undefined && input.steps.length > 0 ? this.writer.addSteps(tx, task, input.steps) : task;
    });
  }

  async complete(orgId: string, ref: string, input: CompleteInput): Promise<TaskView> {
    checkReport({ action: 'complete', ...input });
    return this.withView(orgId, (tx) => this.report(tx, orgId, { taskId: ref, action: 'complete', ...input }));
  }

  async fail(orgId: string, ref: string, input: FailInput): Promise<TaskView> {
    checkReport({ action: 'fail', ...input });
    return this.withView(orgId, (tx) => this.report(tx, orgId, { taskId: ref, action: 'fail', ...input }));
  }

  async release(orgId: string, ref: string, input: ReleaseInput): Promise<TaskView> {
    checkReport({ action: 'release', ...input });
    return this.withView(orgId, (tx) => this.report(tx, orgId, { taskId: ref, action: 'release', ...input }));
  }

  /** One report on its own: the task locked, its lease checked, its transition written. */
  private async report(tx: StoreWriter, orgId: string, r: Report): Promise<Task> {
    const task = await findTaskForUpdate(tx, orgId, r.taskId);
    assertLease(task, r.leaseId);
    return this.writer.transition(tx, task, reportEvent(r));
  }

  /** One unit of work that changes a task, answered with the task and its steps. */
  private withView(orgId: string, change: (tx: StoreWriter) => Promise<Task>): Promise<TaskView> {
    return this.store.write(async (tx) => {
      const task = await change(tx);
      return { task, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /**
   * Many reports in one request, answered item by item in order, each applied on its own: a
   * report that fails (NOT_FOUND, LEASE_LOST, TASK_CANCELED, INVALID_TRANSITION) changes nothing
   * and leaves the others alone. Each chunk of REPORTS_PER_UNIT reports is one unit of work: its
   * tasks are locked together (getTasksForUpdate), the reports are applied in memory in the order
   * given (a task named twice sees the outcome of its first report), and what changed is written
   * as one set (saveMany), so a chunk costs a few statements whatever its size. Chunks keep a large
   * request from holding the write lock for long.
   */
  async reports(orgId: string, reports: readonly Report[]): Promise<ReportResult[]> {
    // The content rules hold for the request as a whole, before any unit: a report that breaks one
    // refuses the request (nothing applied), as a body that breaks the input rules would.
    reports.forEach((r, i) => checkReport(r, `/reports/${i}`));
    const results: ReportResult[] = [];
    for (let i = 0; i < reports.length; i += REPORTS_PER_UNIT) {
      const chunk = reports.slice(i, i + REPORTS_PER_UNIT);
      results.push(...(await this.store.write((tx) => this.applyReports(tx, orgId, chunk))));
    }
    return results;
  }

  private async applyReports(tx: StoreWriter, orgId: string, chunk: readonly Report[]): Promise<ReportResult[]> {
    const ids = await this.resolveRefs(tx, orgId, chunk);
    const read = new Map((await tx.getTasksForUpdate(orgId, [...new Set(ids.values())])).map((t) => [t.id, t]));
    const current = new Map(read);
    const steps = new Map<string, Step[]>();
    const events: NewEvent[] = [];
    const out: ReportResult[] = [];
    for (const r of chunk) {
      try {
        const id = ids.get(r.taskId);
        const task = id === undefined ? undefined : current.get(id);
        if (task === undefined) throw taskNotFound();
        assertLease(task, r.leaseId);
        let next = this.writer.next(tx, task, reportEvent(r));
        events.push(changeEvent(task, next, r.action));
        if (r.action === 'heartbeat' && r.steps !== undefined && r.steps.length > 0) {
          // Like addSteps: the steps are a change of their own (version), with an event per step.
          const rows = this.writer.stepRows(tx, r.steps);
          next = { ...next, version: next.version + 1, updatedAt: tx.now };
          for (const e of stepEvents(next, rows)) events.push(e);
          steps.set(task.id, [...(steps.get(task.id) ?? []), ...rows]);
        }
        current.set(task.id, next);
        out.push({ taskId: r.taskId, ok: true, task: next });
      } catch (err) {
        if (!(err instanceof TasklaneError)) throw err;
        out.push({ taskId: r.taskId, ok: false, error: err });
      }
    }
    for (const [taskId, rows] of steps) await tx.appendSteps(orgId, taskId, rows);
    const changed: Array<{ before: Task; after: Task }> = [];
    for (const after of current.values()) {
      const before = read.get(after.id);
      if (before !== undefined && before !== after) changed.push({ before, after });
    }
    await this.writer.saveMany(tx, orgId, changed, events);
    return out;
  }

  /** The task id of each reference (UUID or identifier) that names a task of the org. */
  private async resolveRefs(tx: StoreReader, orgId: string, chunk: readonly Report[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const { taskId: ref } of chunk) {
      if (ids.has(ref)) continue;
      if (UUID_PATTERN.test(ref)) ids.set(ref, ref.toLowerCase());
      else if (isTaskRef(ref)) {
        const task = await tx.getTaskByIdentifier(orgId, ref);
        if (task !== null) ids.set(ref, task.id);
      }
    }
    return ids;
  }
}

/** How many of `tasks` there are of each type. */
function countByType(tasks: readonly Task[]): Array<{ type: string; count: number }> {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  return [...counts].map(([type, count]) => ({ type, count }));
}

/**
 * Fencing: a canceled task answers TASK_CANCELED; any other mismatch (expired and re-queued,
 * claimed by another, finished) answers LEASE_LOST.
 */
function assertLease(task: Task, leaseId: string): void {
  if (task.status === 'canceled')
    throw new TasklaneError('TASK_CANCELED', 'The task was canceled; stop working on it.');
  if (task.status !== 'in_progress' || task.lease === null || task.lease.id !== leaseId) {
    throw new TasklaneError('LEASE_LOST', 'This lease is not the current one: another worker may hold the task now.');
  }
}

/** The transition a worker's report asks for. */
function reportEvent(r: Report): TransitionEvent {
  switch (r.action) {
    case 'heartbeat':
      return { name: 'heartbeat', extendMs: r.extendMs, progress: r.progress, progressMessage: r.progressMessage };
    case 'complete':
      return { name: 'complete', result: (r.result ?? null) as Json, review: r.review };
    case 'fail':
      return {
        name: 'fail',
        error: {
          code: r.error.code,
          message: r.error.message,
          ...(r.error.details === undefined ? {} : { details: r.error.details as Json }),
        },
        retryable: r.retryable,
        retryAfterMs: r.retryAfterMs,
      };
    case 'release':
      return { name: 'release', delayMs: r.delayMs };
    default: {
      const unknown: never = r;
      throw new Error(`unknown report ${JSON.stringify(unknown)}`);
    }
  }
}
