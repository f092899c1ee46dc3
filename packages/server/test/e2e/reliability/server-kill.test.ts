/**
 * A server that dies under load: creates stream in while a worker (in this process) claims with a
 * 2 s lease and completes; `tasklane serve` is SIGKILLed at a random moment and restarted on the
 * same data folder and port. Every create that was answered 201 must still be there, and nothing
 * may stay in_progress on a lease that expired: the tasks held at the crash return to the queue.
 */
import { createWorker, TasklaneClient, TasklaneConnectionError, type Task } from '@tasklane/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, pollUntil, sleepUntil, startServerProcess, stopAll, tempDir } from './harness.js';

const LEASE_MS = 2000;
const CREATORS = 4;
/**
 * The sweeper runs every second; how long past a lease's end it lands depends on the machine's load,
 * so the test waits for the condition (with this much room) rather than for a fixed time.
 */
const SWEEP_PATIENCE_MS = 20_000;

beforeAll(assertBuilt);
afterAll(stopAll);

async function allTasks(client: TasklaneClient): Promise<Map<string, Task>> {
  const tasks = new Map<string, Task>();
  for await (const t of client.tasks.listAll({ type: 'load', limit: 200 })) tasks.set(t.id, t);
  return tasks;
}

describe('reliability: a server killed under load', () => {
  it('server SIGKILL under load: every 201 create is there, none stuck in_progress', async () => {
    const port = await freePort();
    const dataDir = tempDir('server-kill');
    const first = await startServerProcess({ port, dataDir, name: 'server (first run)' });
    const client = new TasklaneClient({ url: first.url, key: first.rootKey, timeoutMs: 5000 });

    const workerErrors: unknown[] = [];
    let completedByWorker = 0;
    // Tasks whose handler runs: claimed, and not reported on yet, so in_progress on the server.
    const inHandler = new Set<string>();
    const worker = createWorker({
      client,
      types: ['load'],
      workerId: 'parent-worker',
      concurrency: 8,
      leaseMs: LEASE_MS,
      waitMs: 500,
      shutdownGraceMs: 1000,
      handleSignals: false,
      onError: (err) => workerErrors.push(err),
      // A little work per task, so that some are in progress when the server dies.
      handler: async (task) => {
        inHandler.add(task.id);
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        inHandler.delete(task.id);
        completedByWorker++;
        return { ok: true };
      },
    });

    // Creates from several loops at once; the kill lands while some are in flight, at a random
    // count past a few hundred, when the worker holds at least one task.
    const killAfter = 300 + Math.floor(Math.random() * 400);
    const answered201: string[] = [];
    const unexpected: unknown[] = [];
    let lostConnection = 0;
    let killedAt = 0;
    let killing: Promise<unknown> | null = null;
    let inHandlerAtKill: string[] = [];
    const creator = async (n: number) => {
      for (let i = 0; killing === null || Date.now() - killedAt < 100; i++) {
        try {
          const res = await client.request<Task>('POST', '/v1/tasks', { body: { type: 'load', input: { n, i } } });
          if (res.status === 201) answered201.push(res.body.id);
          else unexpected.push(new Error(`create answered ${res.status}`));
        } catch (err) {
          if (!(err instanceof TasklaneConnectionError)) unexpected.push(err);
          lostConnection++;
          return;
        }
        // (Past killAfter + 2,000 the kill comes anyway, and the test fails: the worker held nothing.)
        const due = answered201.length >= killAfter && (inHandler.size > 0 || answered201.length >= killAfter + 2000);
        if (due && killing === null) {
          killedAt = Date.now();
          inHandlerAtKill = [...inHandler];
          killing = first.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CREATORS }, (_, n) => creator(n)));
    expect(await killing).toEqual({ code: null, signal: 'SIGKILL' });
    // The worker's last reports and releases go nowhere: what it held stays in_progress on disk.
    await worker.stop();
    expect(unexpected).toEqual([]);

    const second = await startServerProcess({ port, dataDir, name: 'server (after the kill)' });
    expect(second.url).toBe(first.url);

    const atRestart = await allTasks(client);
    const missing = answered201.filter((id) => !atRestart.has(id));
    // Every lease the dead server gave was taken (or extended) before the kill, for LEASE_MS.
    const leasesEndBy = killedAt + LEASE_MS;
    const inProgressAtRestart = [...atRestart.values()].filter((t) => t.status === 'in_progress');
    for (const t of inProgressAtRestart) {
      expect(t.lease?.workerId).toBe('parent-worker');
      expect(Date.parse(t.lease?.expiresAt ?? '')).toBeLessThanOrEqual(leasesEndBy);
    }

    // Real lease expiry: wait for the last lease of the crashed server, then for the sweeper to
    // have requeued every task whose lease ended (no in_progress task left: no worker runs now).
    await sleepUntil(leasesEndBy);
    const swept = await pollUntil(
      'the restarted server to sweep every expired lease',
      async () => {
        const tasks = await allTasks(client);
        return [...tasks.values()].some((t) => t.status === 'in_progress') ? undefined : tasks;
      },
      { timeoutMs: SWEEP_PATIENCE_MS, intervalMs: 100 },
    ).catch(() => allTasks(client));
    const now = Date.now();
    const stuck = [...swept.values()].filter((t) => t.status === 'in_progress');
    const expiredButHeld = stuck.filter((t) => Date.parse(t.lease?.expiresAt ?? '') <= now);
    // Held at the crash: in a handler then, in_progress at the restart, or since requeued for it
    // (a slow restart lets the new server's sweeper get there before the first look).
    const heldAtCrash = new Set([
      ...inHandlerAtKill,
      ...inProgressAtRestart.map((t) => t.id),
      ...[...swept.values()].filter((t) => t.error?.code === 'LEASE_EXPIRED').map((t) => t.id),
    ]);
    const notRequeued = [...heldAtCrash]
      .map((id) => swept.get(id))
      .filter(
        (t) => t?.status !== 'queued' || t.attempt !== 1 || t.retryCount !== 1 || t.error?.code !== 'LEASE_EXPIRED',
      );

    console.log(
      `[reliability] server SIGKILL after ${answered201.length} creates answered 201 ` +
        `(kill at ${killAfter}, ${lostConnection} creates cut off, ${completedByWorker} handled by the worker): ` +
        `${atRestart.size} tasks after the restart, ${missing.length} missing; ` +
        `${heldAtCrash.size} in_progress at the crash (${inProgressAtRestart.length} still at the restart), ` +
        `${expiredButHeld.length} stuck in_progress on an expired lease ${now - killedAt} ms after the kill`,
    );
    expect(missing).toEqual([]);
    expect(inHandlerAtKill.length).toBeGreaterThan(0);
    expect(expiredButHeld.map((t) => t.id)).toEqual([]);
    // No worker runs now, so nothing may be in progress at all.
    expect(stuck.map((t) => t.id)).toEqual([]);
    expect(notRequeued.map((t) => t && { id: t.id, status: t.status, attempt: t.attempt, error: t.error })).toEqual([]);

    // And the restarted server serves them all to a new worker: nothing is lost or wedged.
    const drained: string[] = [];
    const again = createWorker({
      client,
      types: ['load'],
      workerId: 'after-restart',
      concurrency: 16,
      leaseMs: 30_000,
      waitMs: 500,
      handleSignals: false,
      handler: (task) => void drained.push(task.id),
    });
    await pollUntil(
      'every task completed after the restart',
      async () => {
        const stats = await client.insights.stats();
        return stats.byType.load?.completed === atRestart.size ? stats : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await again.stop();
    const final = await allTasks(client);
    expect([...final.values()].filter((t) => t.status !== 'completed').map((t) => t.id)).toEqual([]);
    expect(answered201.every((id) => final.get(id)?.status === 'completed')).toBe(true);
    expect(new Set(drained).size).toBe(drained.length);
  }, 120_000);
});
