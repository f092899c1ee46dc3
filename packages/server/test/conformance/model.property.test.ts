/**
 * Model-based property test of the worker lifecycle. fast-check drives random sequences of create,
 * claim, heartbeat / complete / fail / release (with the current, a stale or a made-up lease), cancel,
 * retry, clock advances and sweeps against the real services over SQLite, and against a small pure
 * model of what SPEC §3 and §5 say must happen. After every step the two must agree on every task's
 * status, attempt, retryCount, version, runAt and lease (who holds it, until when), and every call
 * the model rejects must be rejected with the same code, changing nothing.
 *
 * Deterministic: a fixed seed (TASKLANE_FC_SEED overrides it), printed with the counterexample on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { isTerminal, type TaskStatus } from '../../src/domain/status.js';
import type { Task } from '../../src/domain/task.js';
import { createServices, type Services } from '../../src/service/services.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { ORG_A, T0 } from '../helpers/task-factory.js';
import { seededRandom } from '../helpers/seeded-random.js';

const SEED = Number(process.env.TASKLANE_FC_SEED ?? 20260101);
const RUNS = 100;
const MAX_COMMANDS = 30;
const LEASE_MS = 10_000;
const RETRY_DELAY_MS = 3_000;
const TYPE = 'model.job';

// ---- commands ----------------------------------------------------------------------------------

type LeaseChoice = 'current' | 'stale' | 'bogus';
type ReportAction = 'heartbeat' | 'complete' | 'fail' | 'release';

type Command =
  | { kind: 'create'; priority: number; maxRetries: number }
  | { kind: 'claim'; worker: number; limit: number }
  | {
      kind: 'report';
      action: ReportAction;
      /** Aim at a task a worker holds (when there is one), or at any task. */
      target: 'held' | 'any';
      task: number;
      lease: LeaseChoice;
      retryable: boolean;
      delayMs: number;
    }
  | { kind: 'cancel'; task: number }
  | { kind: 'retry'; task: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' };

const createArb = fc.record({
  kind: fc.constant('create' as const),
  priority: fc.integer({ min: 0, max: 2 }),
  maxRetries: fc.integer({ min: 0, max: 2 }),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: createArb },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      worker: fc.integer({ min: 0, max: 2 }),
      limit: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      action: fc.constantFrom<ReportAction>('heartbeat', 'complete', 'fail', 'release'),
      target: fc.constantFrom<'held' | 'any'>('held', 'held', 'held', 'any'),
      task: fc.nat({ max: 9 }),
      lease: fc.constantFrom<LeaseChoice>('current', 'current', 'current', 'stale', 'bogus'),
      retryable: fc.boolean(),
      delayMs: fc.constantFrom(0, 2_000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), task: fc.nat({ max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), task: fc.nat({ max: 9 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 4_000, 10_000, 10_000) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

/** A few tasks first, then anything: long enough for leases to expire and retries to run out. */
const sequenceArb: fc.Arbitrary<Command[]> = fc
  .tuple(
    fc.array(createArb, { minLength: 1, maxLength: 4 }),
    fc.array(commandArb, { minLength: 1, maxLength: MAX_COMMANDS - 4, size: 'max' }),
  )
  .map(([creates, rest]) => [...creates, ...rest]);

// ---- the model ---------------------------------------------------------------------------------

interface ModelLease {
  id: string;
  workerId: string;
  expiresAt: number;
  lengthMs: number;
}

interface ModelTask {
  id: string;
  priority: number;
  maxRetries: number;
  status: TaskStatus;
  attempt: number;
  retryCount: number;
  version: number;
  runAt: number | null;
  queuedAt: number | null;
  lease: ModelLease | null;
  /** Every lease id ever handed out for this task, oldest first. */
  leases: string[];
}

/** What the real call must do: succeed, or fail with this code. */
type Expected = { ok: true } | { ok: false; code: string };

class Model {
  readonly tasks: ModelTask[] = [];
  readonly allLeases = new Set<string>();
  now = T0;

  private change(t: ModelTask, patch: Partial<ModelTask>): void {
    Object.assign(t, patch, { version: t.version + 1 });
  }

  private queue(t: ModelTask, runAt: number | null, patch: Partial<ModelTask> = {}): void {
    this.change(t, { status: 'queued', lease: null, runAt, queuedAt: this.now, ...patch });
  }

  private end(t: ModelTask, status: 'completed' | 'failed' | 'canceled'): void {
    this.change(t, { status, lease: null, runAt: null });
  }

  create(id: string, priority: number, maxRetries: number): void {
    this.tasks.push({
      id,
      priority,
      maxRetries,
      status: 'queued',
      attempt: 0,
      retryCount: 0,
      version: 1,
      runAt: null,
      queuedAt: this.now,
      lease: null,
      leases: [],
    });
  }

  /** The tasks a claim of `limit` must get, in claim order (SPEC §5). */
  claimable(limit: number): ModelTask[] {
    const key = (t: ModelTask) => t.runAt ?? t.queuedAt ?? 0;
    return this.tasks
      .filter((t) => t.status === 'queued' && (t.runAt === null || t.runAt <= this.now))
      .sort((a, b) => b.priority - a.priority || key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  claimed(t: ModelTask, leaseId: string, workerId: string): void {
    this.change(t, {
      status: 'in_progress',
      attempt: t.attempt + 1,
      runAt: null,
      lease: { id: leaseId, workerId, expiresAt: this.now + LEASE_MS, lengthMs: LEASE_MS },
    });
    t.leases.push(leaseId);
    this.allLeases.add(leaseId);
  }

  /** The lease id a worker sends: the current one, an older one of the task, or one never issued. */
  leaseFor(t: ModelTask, choice: LeaseChoice): string {
    const last = t.leases.at(-1);
    if (choice === 'current') return t.lease?.id ?? last ?? 'bogus-lease';
    if (choice === 'stale') return t.leases.filter((id) => id !== t.lease?.id).at(-1) ?? 'bogus-lease';
    return 'bogus-lease';
  }

  report(t: ModelTask, cmd: Extract<Command, { kind: 'report' }>, leaseId: string): Expected {
    if (t.status === 'canceled') return { ok: false, code: 'TASK_CANCELED' };
    if (t.status !== 'in_progress' || t.lease?.id !== leaseId) return { ok: false, code: 'LEASE_LOST' };
    switch (cmd.action) {
      case 'heartbeat':
        this.change(t, { lease: { ...t.lease, expiresAt: this.now + LEASE_MS } });
        break;
      case 'complete':
        this.end(t, 'completed');
        break;
      case 'fail':
        this.failAttempt(t, cmd.retryable, this.now + RETRY_DELAY_MS);
        break;
      case 'release':
        this.queue(t, cmd.delayMs > 0 ? this.now + cmd.delayMs : null);
        break;
    }
    return { ok: true };
  }

  private failAttempt(t: ModelTask, retryable: boolean, runAt: number | null): void {
    if (!retryable || t.retryCount >= t.maxRetries) this.end(t, 'failed');
    else this.queue(t, runAt, { retryCount: t.retryCount + 1 });
  }

  cancel(t: ModelTask): Expected {
    if (isTerminal(t.status)) return { ok: false, code: 'INVALID_TRANSITION' };
    this.end(t, 'canceled');
    return { ok: true };
  }

  /** A person's retry: queued again, the attempt count goes on, the retry budget starts afresh. */
  retry(t: ModelTask): Expected {
    if (t.status !== 'failed' && t.status !== 'canceled') return { ok: false, code: 'INVALID_TRANSITION' };
    this.queue(t, null, { retryCount: 0 });
    return { ok: true };
  }

  /** Expired leases back to the queue at once (no backoff), or failed when no retries are left. */
  sweep(): number {
    const expired = this.tasks.filter(
      (t) => t.status === 'in_progress' && t.lease !== null && t.lease.expiresAt <= this.now,
    );
    for (const t of expired) this.failAttempt(t, true, null);
    return expired.length;
  }
}

// ---- one run -----------------------------------------------------------------------------------

/** The fields the model and the real task must agree on. */
function observed(t: Pick<ModelTask, 'id' | 'status' | 'attempt' | 'retryCount' | 'version' | 'runAt' | 'lease'>) {
  return {
    id: t.id,
    status: t.status,
    attempt: t.attempt,
    retryCount: t.retryCount,
    version: t.version,
    runAt: t.runAt,
    lease: t.lease === null ? null : { id: t.lease.id, workerId: t.lease.workerId, expiresAt: t.lease.expiresAt },
  };
}

async function outcomeOf(call: Promise<unknown>): Promise<Expected> {
  try {
    await call;
    return { ok: true };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') throw err;
    return { ok: false, code };
  }
}

async function runCommands(commands: readonly Command[]): Promise<void> {
  const clock = new ManualClock(T0);
  const store = createSqliteStore({ path: ':memory:', clock });
  try {
    await store.migrate();
    await store.write((tx) => tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 }));
    const services: Services = createServices(store, { clock, random: seededRandom(SEED) });
    const model = new Model();
    const pick = (n: number): ModelTask | undefined => model.tasks[n % Math.max(1, model.tasks.length)];

    for (const [step, cmd] of commands.entries()) {
      const where = `step ${step} ${JSON.stringify(cmd)}`;
      switch (cmd.kind) {
        case 'create': {
          const { view } = await services.tasks.create(
            { orgId: ORG_A, keyName: 'model' },
            {
              type: TYPE,
              priority: cmd.priority,
              maxRetries: cmd.maxRetries,
              leaseMs: LEASE_MS,
              retryPolicy: { strategy: 'fixed', delayMs: RETRY_DELAY_MS, maxDelayMs: RETRY_DELAY_MS, jitter: 'none' },
            },
          );
          model.create(view.task.id, cmd.priority, cmd.maxRetries);
          break;
        }
        case 'claim': {
          const workerId = `worker-${cmd.worker}`;
          const expected = model.claimable(cmd.limit);
          const got = (
            await services.workers.claim(ORG_A, { types: [TYPE], workerId, limit: cmd.limit, waitMs: 0 })
          ).map((v) => v.task);
          expect(
            got.map((t) => t.id),
            where,
          ).toEqual(expected.map((t) => t.id));
          got.forEach((t, i) => {
            const leaseId = t.lease?.id;
            expect(leaseId, `${where}: a new lease id`).toBeTypeOf('string');
            expect(model.allLeases.has(leaseId as string), `${where}: lease id reused`).toBe(false);
            model.claimed(expected[i] as ModelTask, leaseId as string, workerId);
          });
          break;
        }
        case 'report': {
          const held = model.tasks.filter((m) => m.status === 'in_progress');
          const t = cmd.target === 'held' && held.length > 0 ? held[cmd.task % held.length] : pick(cmd.task);
          if (t === undefined) break;
          const leaseId = model.leaseFor(t, cmd.lease);
          const w = services.workers;
          const real =
            cmd.action === 'heartbeat'
              ? w.heartbeat(ORG_A, t.id, { leaseId })
              : cmd.action === 'complete'
                ? w.complete(ORG_A, t.id, { leaseId, result: { step } })
                : cmd.action === 'fail'
                  ? w.fail(ORG_A, t.id, { leaseId, error: { message: `failed at ${step}` }, retryable: cmd.retryable })
                  : w.release(ORG_A, t.id, { leaseId, ...(cmd.delayMs > 0 ? { delayMs: cmd.delayMs } : {}) });
          const expected = model.report(t, cmd, leaseId);
          expect(await outcomeOf(real), where).toEqual(expected);
          break;
        }
        case 'cancel':
        case 'retry': {
          const t = pick(cmd.task);
          if (t === undefined) break;
          const real = outcomeOf(services.tasks.action(ORG_A, t.id, cmd.kind, {}));
          const expected = cmd.kind === 'cancel' ? model.cancel(t) : model.retry(t);
          expect(await real, where).toEqual(expected);
          break;
        }
        case 'advance':
          clock.advance(cmd.ms);
          model.now += cmd.ms;
          break;
        case 'sweep': {
          const expected = model.sweep();
          expect(await services.maintenance.sweepOnce(), where).toBe(expected);
          break;
        }
      }

      // No divergence, after every step.
      const real = await store.read((tx) => tx.listTasks(ORG_A, {}, 200, null));
      const byId = new Map<string, Task>(real.items.map((t) => [t.id, t]));
      expect(real.items.length, where).toBe(model.tasks.length);
      for (const m of model.tasks) {
        const r = byId.get(m.id);
        expect(r && observed(r), where).toEqual(observed(m));
      }
    }
  } finally {
    await store.close();
  }
}

// ---- the property ------------------------------------------------------------------------------

describe('worker lifecycle: services over SQLite against a pure model', () => {
  it(`random command sequences never diverge from the model (seed ${SEED})`, async () => {
    try {
      await fc.assert(
        fc.asyncProperty(sequenceArb, (commands) => runCommands(commands)),
        { seed: SEED, numRuns: RUNS },
      );
    } catch (err) {
      // fast-check's report carries the seed and the shrunk path; say how to replay it too.
      throw new Error(`model divergence (replay with TASKLANE_FC_SEED=${SEED}):\n${(err as Error).message}`, {
        cause: err,
      });
    }
  }, 120_000);
});
