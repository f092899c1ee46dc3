/**
 * Fencing (SPEC §5): a worker whose lease really expired (swept by the server, not canceled or
 * faked) and whose task another worker now holds must not change anything with its old lease.
 * 200 rounds at once: worker A claims 200 tasks on the minimum lease, the sweeper requeues them,
 * worker B claims them, then A reports on every one with its stale lease, rotating through every
 * kind of worker call. Each must answer 409 LEASE_LOST and leave the task exactly as it was.
 */
import { TasklaneApiError, TasklaneClient, type Report, type Task } from '@tasklane/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { pollUntil, sleepUntil, stopAll, tempDir } from './harness.js';

const ROUNDS = 200;
/** The shortest lease a claim may ask for. */
const MIN_LEASE_MS = 1000;
const KINDS = ['heartbeat', 'complete', 'fail', 'release', 'steps', 'reports'] as const;
type Kind = (typeof KINDS)[number];

let server: RunningServer;
let client: TasklaneClient;

beforeAll(async () => {
  server = await startServer(
    loadConfig({}, { port: '0', dataDir: tempDir('stale-lease'), logLevel: 'silent', rateLimit: '0' }),
  );
  if (server.rootKey === null) throw new Error('the first start should create a root key');
  client = new TasklaneClient({ url: server.url, key: server.rootKey });
});
afterAll(async () => {
  await server?.close();
  await stopAll();
});

/** Claim `n` tasks of `type` in claims of at most 100 (the claim limit). */
async function claimAll(type: string, workerId: string, leaseMs: number, n: number): Promise<Task[]> {
  const claimed: Task[] = [];
  while (claimed.length < n) {
    const limit = Math.min(100, n - claimed.length);
    const got = await client.workers.claim({ types: [type], workerId, limit, leaseMs });
    if (got.length === 0) throw new Error(`${workerId} found nothing to claim after ${claimed.length} of ${n}`);
    claimed.push(...got);
  }
  return claimed;
}

const leaseIdOf = (t: Task): string => {
  if (t.lease?.id === undefined) throw new Error(`claimed task ${t.id} came without a lease id`);
  return t.lease.id;
};

/** How one stale call was answered: `ok` when the server accepted it (a stale write). */
interface Answer {
  taskId: string;
  kind: Kind;
  ok: boolean;
  status: number;
  code: string | null;
}

async function staleCall(kind: Exclude<Kind, 'reports'>, taskId: string, leaseId: string): Promise<Answer> {
  const call = (): Promise<unknown> => {
    switch (kind) {
      case 'heartbeat':
        return client.workers.heartbeat(taskId, { leaseId, progress: 0.5, steps: [{ message: 'stale heartbeat' }] });
      case 'complete':
        return client.workers.complete(taskId, { leaseId, result: { by: 'A' } });
      case 'fail':
        return client.workers.fail(taskId, { leaseId, error: { code: 'STALE', message: 'A fails' }, retryable: false });
      case 'release':
        return client.workers.release(taskId, { leaseId, delayMs: 60_000 });
      case 'steps':
        return client.tasks.appendSteps(taskId, [{ message: 'stale step' }], { leaseId });
    }
  };
  try {
    await call();
    return { taskId, kind, ok: true, status: 200, code: null };
  } catch (err) {
    if (!(err instanceof TasklaneApiError)) throw err;
    return { taskId, kind, ok: false, status: err.status, code: err.code };
  }
}

/** The same four reports through `POST /v1/tasks/reports`, in one request. */
async function staleReports(items: Array<{ taskId: string; leaseId: string }>): Promise<Answer[]> {
  const actions = ['heartbeat', 'complete', 'fail', 'release'] as const;
  const reports: Report[] = items.map(({ taskId, leaseId }, i) => {
    const action = actions[i % actions.length]!;
    switch (action) {
      case 'heartbeat':
        return { taskId, leaseId, action, progress: 0.5 };
      case 'complete':
        return { taskId, leaseId, action, result: { by: 'A' } };
      case 'fail':
        return { taskId, leaseId, action, error: { message: 'A fails' }, retryable: false };
      case 'release':
        return { taskId, leaseId, action };
    }
  });
  const results = await client.workers.reports(reports);
  return results.map((r, i) => ({
    taskId: items[i]!.taskId,
    kind: 'reports' as const,
    ok: r.ok,
    status: r.ok ? 200 : (r.error?.status ?? 0),
    code: r.ok ? null : (r.error?.code ?? null),
  }));
}

describe('reliability: fencing after a real lease expiry', () => {
  it(`stale-lease fencing: ${ROUNDS} rounds, 0 stale writes`, async () => {
    const ids = (
      await client.tasks.createBatch({ tasks: Array.from({ length: ROUNDS }, () => ({ type: 'fence' })) })
    ).map((t) => t.id);

    // A claims everything on the shortest lease and goes quiet; the sweeper takes it back.
    const byA = await claimAll('fence', 'worker-a', MIN_LEASE_MS, ROUNDS);
    const staleLease = new Map(byA.map((t) => [t.id, leaseIdOf(t)]));
    expect([...staleLease.keys()].sort()).toEqual([...ids].sort());
    await sleepUntil(Math.max(...byA.map((t) => Date.parse(t.lease?.expiresAt ?? ''))));
    const requeuedAfter = Date.now();
    await pollUntil(
      `${ROUNDS} tasks requeued by the sweeper`,
      async () => ((await client.insights.stats()).byType.fence?.queued === ROUNDS ? true : undefined),
      { timeoutMs: 5000, intervalMs: 20 },
    );
    const sweptInMs = Date.now() - requeuedAfter;

    // B holds every task now.
    const byB = await claimAll('fence', 'worker-b', 60_000, ROUNDS);
    const liveLease = new Map(byB.map((t) => [t.id, leaseIdOf(t)]));
    expect([...liveLease.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(liveLease.get(id)).not.toBe(staleLease.get(id));
    const before = new Map((await Promise.all(ids.map((id) => client.tasks.get(id)))).map((t) => [t.id, t]));
    for (const t of before.values()) {
      expect(t).toMatchObject({ status: 'in_progress', attempt: 2, retryCount: 1, lease: { workerId: 'worker-b' } });
    }

    // A reports on every task with its stale lease, all at once, one kind of call per round in turn.
    const kindOf = (i: number): Kind => KINDS[i % KINDS.length]!;
    const viaReports = ids.filter((_, i) => kindOf(i) === 'reports');
    const answers = (
      await Promise.all([
        ...ids.flatMap((id, i) => {
          const kind = kindOf(i);
          return kind === 'reports' ? [] : [staleCall(kind, id, staleLease.get(id)!).then((a) => [a])];
        }),
        staleReports(viaReports.map((id) => ({ taskId: id, leaseId: staleLease.get(id)! }))),
      ])
    ).flat();

    const after = new Map((await Promise.all(ids.map((id) => client.tasks.get(id)))).map((t) => [t.id, t]));
    const accepted = answers.filter((a) => a.ok);
    const changed = ids.filter((id) => JSON.stringify(after.get(id)) !== JSON.stringify(before.get(id)));
    const staleWrites = new Set([...accepted.map((a) => a.taskId), ...changed]).size;
    const wrongAnswers = answers.filter((a) => a.status !== 409 || a.code !== 'LEASE_LOST');
    const perKind = KINDS.map((k) => `${k} ${answers.filter((a) => a.kind === k).length}`).join(', ');
    console.log(
      `[reliability] stale-lease fencing: ${ROUNDS} rounds (${perKind}), leases swept ${sweptInMs} ms after expiry: ` +
        `${staleWrites} stale writes, ${answers.length - wrongAnswers.length} answered 409 LEASE_LOST`,
    );
    expect(answers).toHaveLength(ROUNDS);
    expect(staleWrites).toBe(0);
    expect(accepted).toEqual([]);
    expect(changed.map((id) => ({ before: before.get(id), after: after.get(id) }))).toEqual([]);
    expect(wrongAnswers).toEqual([]);

    // B, the holder, is unaffected: it heartbeats and completes every task.
    await Promise.all(
      ids.map(async (id) => {
        const leaseId = liveLease.get(id)!;
        await client.workers.heartbeat(id, { leaseId, progress: 0.9 });
        await client.workers.complete(id, { leaseId, result: { by: 'B' } });
      }),
    );
    const final = await Promise.all(ids.map((id) => client.tasks.get(id)));
    for (const t of final) {
      expect(t).toMatchObject({ status: 'completed', attempt: 2, retryCount: 1, result: { by: 'B' }, lease: null });
      expect(t.steps.map((s) => s.message)).not.toContain('stale step');
      expect(t.steps.map((s) => s.message)).not.toContain('stale heartbeat');
    }
  }, 120_000);
});
