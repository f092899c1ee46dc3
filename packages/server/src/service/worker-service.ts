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
import { DEFAULT_LEASE_MS, type Step, type Task } from '../domain/task.js';
import type { NewEvent, StoreReader, StoreWriter, TaskStore, TypeConfig } from '../storage/task-store.js';
import type { ChangeHub } from './change-hub.js';
import { allowanceOf, claimTask, typeForClaim } from './claim-limits.js';
import { UUID_PATTERN, newLeaseId } from './ids.js';
import { PollLog, type PollRecord } from './poll-log.js';
import { changeEvent } from './task-events.js';
import { findTask, findTaskForUpdate, isTaskRef, taskNotFound } from './task-lookup.js';
import { checkReport, checkWorkerId } from './task-rules.js';
import { withSteps, type TaskView } from './task-view.js';
import type { TaskWriter } from './task-writer.js';
import {
  applyReport,
  assertLease,
  reportChange,
  type CompleteInput,
  type FailInput,
  type HeartbeatInput,
  type ReleaseInput,
  type Report,
  type ReportBody,
  type ReportLease,
} from './worker-reports.js';

export type {
  CompleteInput,
  FailInput,
  HeartbeatInput,
  Lease,
  ReleaseInput,
  Report,
  ReportBody,
  ReportLease,
} from './worker-reports.js';

export interface ClaimRequest {
  types: string[];
  workerId: string;
  limit: number;
  leaseMs?: number | undefined;
  /** Hold the request up to this long (wall time) until something is claimable. */
  waitMs: number;
  /** The worker's domain (Conductor's), kept with its last poll time; claims ignore it. */
  domain?: string | undefined;
}

export type ReportResult =
  { taskId: string; ok: true; task: Task } | { taskId: string; ok: false; error: TasklaneError };

const REPORTS_PER_UNIT = 200;

export class WorkerService {
  constructor(
    private readonly store: TaskStore,
    private readonly writer: TaskWriter,
    private readonly changes: ChangeHub,
    private readonly clock: Clock,
    /** This node's memory of who polled what, when (Conductor's poll data). */
    private readonly polls: PollLog = new PollLog(),
  ) {}

  /**
   * Claim up to `limit` tasks of `types`: highest priority first, then runAt/queuedAt, then id.
   * With `waitMs`, holds until something is claimable (woken by the commit that made it so, or
   * by the timer of the earliest future runAt) or the time passes.
   */
  async claim(orgId: string, req: ClaimRequest, signal?: AbortSignal): Promise<TaskView[]> {
    checkWorkerId(req.workerId);
    const types = [...new Set(req.types)];
    this.polls.record(orgId, types, req.workerId, req.domain ?? null, this.clock.now());
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
      for (const type of [...types].sort()) configs.set(type, await typeForClaim(tx, orgId, type));
      const allowance = new Map<string, number>();
      // When a rate limit holds a type back, the moment its window frees a claim is a reason to
      // wake up too (no task change would announce it).
      let refillAt: number | null = null;
      for (const [type, config] of configs) {
        const a = await allowanceOf(tx, orgId, type, config, req.limit);
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
    checkWorkerId(input.workerId);
    return this.store.write(async (tx) => {
      // Type lock first, then the row: the same order as a claim by type.
      const config = await typeForClaim(tx, orgId, (await findTask(tx, orgId, ref)).type);
      const next = await claimTask(tx, this.writer, await findTaskForUpdate(tx, orgId, ref), config, input);
      return { task: next, steps: await tx.getSteps(orgId, next.id) };
    });
  }

  heartbeat(orgId: string, ref: string, input: HeartbeatInput): Promise<TaskView> {
    const { leaseId, ...body } = input;
    return this.report(orgId, ref, { action: 'heartbeat', ...body }, { leaseId });
  }

  complete(orgId: string, ref: string, input: CompleteInput): Promise<TaskView> {
    const { leaseId, ...body } = input;
    return this.report(orgId, ref, { action: 'complete', ...body }, { leaseId });
  }

  fail(orgId: string, ref: string, input: FailInput): Promise<TaskView> {
    const { leaseId, ...body } = input;
    return this.report(orgId, ref, { action: 'fail', ...body }, { leaseId });
  }

  release(orgId: string, ref: string, input: ReleaseInput): Promise<TaskView> {
    const { leaseId, ...body } = input;
    return this.report(orgId, ref, { action: 'release', ...body }, { leaseId });
  }

  /**
   * One report on one task, with the steps it carries, as one unit of work: the task locked, its
   * lease checked (the lease id given, or whatever lease the task holds: see ReportLease), then the
   * steps and the transition written together. A report that fails changes nothing, steps included.
   */
  async report(orgId: string, ref: string, body: ReportBody, lease: ReportLease): Promise<TaskView> {
    checkReport(body);
    if ('holder' in lease && lease.holder.workerId !== undefined) checkWorkerId(lease.holder.workerId);
    return this.store.write(async (tx) => {
      const task = await applyReport(tx, this.writer, await findTaskForUpdate(tx, orgId, ref), body, lease);
      return { task, steps: await tx.getSteps(orgId, task.id) };
    });
  }

  /** How many tasks of each type are queued (due now or later): Conductor's queue sizes. */
  queueSizes(orgId: string, types: readonly string[]): Promise<Map<string, number>> {
    return this.store.read((tx) => tx.countQueued(orgId, types));
  }

  /** The workers that polled `type` through this node, with when they last did, most recent first. */
  pollData(orgId: string, type: string): PollRecord[] {
    return this.polls.of(orgId, type);
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
        const change = reportChange(tx, this.writer, task, r);
        events.push(...change.events);
        if (change.steps.length > 0) steps.set(task.id, [...(steps.get(task.id) ?? []), ...change.steps]);
        const next = change.next;
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
