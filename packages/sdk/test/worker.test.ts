/**
 * The worker loop against a real server started in-process: outcomes, heartbeats, cancellation
 * reaching the handler's AbortSignal, and a stop that releases what it still holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { createWorker, PermanentError, TasklaneClient, type Task, type Worker } from '../src/index.js';

let server: RunningServer;
let dir: string;
let client: TasklaneClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-worker-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
  client = new TasklaneClient({ url: server.url, key: server.rootKey as string });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A type name of its own per test, so workers never see another test's tasks. */
let seq = 0;
const freshType = () => `wt.${Date.now()}.${seq++}`;

/** The task once `done(task)` holds, long-polling on its version (no sleeping). */
async function until(id: string, done: (t: Task) => boolean, timeoutMs = 10_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let task = await client.tasks.get(id);
  while (!done(task)) {
    if (Date.now() > deadline) throw new Error(`task ${id} did not reach the condition; last: ${task.status}`);
    task = (await client.tasks.get(id, { wait: 5, ifNoneMatch: task.version })) ?? task;
  }
  return task;
}

const until_ = (id: string) => until(id, (x) => x.status === 'completed');

function worker(
  types: string[],
  handler: Parameters<typeof createWorker>[0]['handler'],
  extra: Partial<Parameters<typeof createWorker>[0]> = {},
): Worker {
  return createWorker({ client, types, handler, waitMs: 500, handleSignals: false, leaseMs: 5000, ...extra });
}

describe('createWorker', () => {
  it('completes a task with the handler result, through a batched report', async () => {
    const type = freshType();
    const w = worker([type], async (task) => ({ echoed: task.input }));
    const t = await client.tasks.create({ type, input: { n: 1 } });
    const done = await until(t.id, (x) => x.status === 'completed');
    expect(done.result).toEqual({ echoed: { n: 1 } });
    expect(done.attempt).toBe(1);
    await w.stop();
  });

  it('fails a retryable error back to the queue, and a PermanentError for good', async () => {
    const type = freshType();
    const w = worker([type], async (task) => {
      if ((task.input as { permanent: boolean }).permanent) throw new PermanentError('bad input', 'BAD_INPUT');
      throw Object.assign(new Error('flaky'), { code: 'FLAKY', retryAfterMs: 60_000 });
    });
    const flaky = await client.tasks.create({ type, input: { permanent: false } });
    const bad = await client.tasks.create({ type, input: { permanent: true } });
    const requeued = await until(flaky.id, (x) => x.retryCount === 1);
    expect(requeued.status).toBe('queued');
    expect(requeued.error).toMatchObject({ code: 'FLAKY', message: 'flaky', retryable: true });
    const failed = await until(bad.id, (x) => x.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'BAD_INPUT', retryable: false });
    await w.stop();
  });

  it('reports progress and steps through heartbeats while the handler runs', async () => {
    const type = freshType();
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const w = worker([type], async (_task, ctx) => {
      await ctx.progress(0.5, 'half way');
      await ctx.step('fetched', { bytes: 42 });
      await gate;
      return 'ok';
    });
    const t = await client.tasks.create({ type });
    const running = await until(t.id, (x) => x.progress === 0.5 && x.steps.length === 1);
    expect(running.status).toBe('in_progress');
    expect(running.progressMessage).toBe('half way');
    expect(running.steps[0]).toMatchObject({ message: 'fetched', data: { bytes: 42 } });
    finish();
    await until(t.id, (x) => x.status === 'completed');
    await w.stop();
  });

  it('aborts the handler signal when the task is canceled, and reports nothing after', async () => {
    const type = freshType();
    let started!: () => void;
    const isRunning = new Promise<void>((resolve) => (started = resolve));
    let aborted: unknown = null;
    const w = worker(
      [type],
      (_task, ctx) =>
        new Promise((resolve) => {
          started();
          ctx.signal.addEventListener('abort', () => {
            aborted = ctx.signal.reason;
            resolve('too late');
          });
        }),
      // Short lease: heartbeats every ~333 ms find out about the cancel quickly.
      { leaseMs: 1000 },
    );
    const t = await client.tasks.create({ type });
    await isRunning;
    await client.tasks.cancel(t.id);
    const deadline = Date.now() + 5000;
    while (aborted === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toMatchObject({ code: 'TASK_CANCELED' });
    await w.stop();
    const after = await client.tasks.get(t.id);
    expect(after.status).toBe('canceled');
    expect(after.result).toBeNull();
  });

  it('a handler that reads its signal only after the task was lost finds it aborted', async () => {
    const type = freshType();
    let canceled!: () => void;
    const gate = new Promise<void>((resolve) => (canceled = resolve));
    let started!: (id: string) => void;
    const isRunning = new Promise<string>((resolve) => (started = resolve));
    let seen: { aborted: boolean; reason: unknown } | null = null;
    const w = worker([type], async (task, ctx) => {
      started(task.id);
      await gate;
      // This heartbeat finds the task canceled; the signal is first read after that.
      await ctx.progress(0.9);
      seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
      return 'too late';
    });
    const t = await client.tasks.create({ type });
    expect(await isRunning).toBe(t.id);
    await client.tasks.cancel(t.id);
    canceled();
    const deadline = Date.now() + 5000;
    while (seen === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toMatchObject({ aborted: true, reason: { code: 'TASK_CANCELED' } });
    await w.stop();
    expect((await client.tasks.get(t.id)).status).toBe('canceled');
  });

  it('heartbeats the tasks it holds together, in batched reports, so leases outlive their length', async () => {
    const type = freshType();
    const sent: Array<{ path: string; actions: string[] }> = [];
    const counting = new TasklaneClient({
      url: server.url,
      key: server.rootKey as string,
      fetch: async (input, init) => {
        const body =
          typeof init?.body === 'string' ? (JSON.parse(init.body) as { reports?: Array<{ action: string }> }) : {};
        sent.push({ path: new URL(String(input)).pathname, actions: (body.reports ?? []).map((r) => r.action) });
        return fetch(input, init);
      },
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    const errors: unknown[] = [];
    const w = createWorker({
      client: counting,
      types: [type],
      concurrency: 5,
      leaseMs: 1000,
      waitMs: 500,
      handleSignals: false,
      onError: (err) => errors.push(err),
      handler: async () => {
        holding++;
        await gate;
      },
    });
    const tasks = await client.tasks.createBatch({ tasks: Array.from({ length: 5 }, () => ({ type })) });
    // Hold the five for three lease lengths; then every one must still be in progress.
    const started = Date.now() + 5000;
    while (holding < 5 && Date.now() < started) await new Promise((r) => setTimeout(r, 10));
    expect(holding).toBe(5);
    const held = Date.now() + 3_000;
    while (Date.now() < held) await new Promise((r) => setTimeout(r, 50));
    for (const t of tasks) expect((await client.tasks.get(t.id)).status).toBe('in_progress');
    const beats = sent.filter((r) => r.path === '/v1/tasks/reports' && r.actions.includes('heartbeat'));
    expect(beats.length).toBeGreaterThan(0);
    // One request carries the heartbeats of several tasks; none went one by one.
    expect(Math.max(...beats.map((b) => b.actions.length))).toBeGreaterThan(1);
    expect(sent.some((r) => r.path.endsWith('/heartbeat'))).toBe(false);
    release();
    for (const t of tasks) await until_(t.id);
    await w.stop();
    expect(errors).toEqual([]);
  });

  it('claims again while its last report is on the way, but not while too many wait for an answer', async () => {
    const type = freshType();
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = new TasklaneClient({
      url: server.url,
      key: server.rootKey as string,
      fetch: async (input, init) => {
        const path = new URL(String(input)).pathname;
        if (path === '/v1/tasks/claim') {
          const res = await fetch(input, init);
          const n = ((await res.clone().json()) as { tasks: unknown[] }).tasks.length;
          if (n > 0) log.push(`claimed ${n}`);
          return res;
        }
        if (path === '/v1/tasks/reports') {
          log.push('report sent');
          await gate; // the server's answer is held back
          const res = await fetch(input, init);
          log.push('report answered');
          return res;
        }
        return fetch(input, init);
      },
    });
    await client.tasks.createBatch({ tasks: Array.from({ length: 3 }, () => ({ type })) });
    const w = createWorker({
      client: held,
      types: [type],
      concurrency: 1,
      waitMs: 500,
      handleSignals: false,
      handler: () => 'ok',
    });
    // Concurrency 1: the second claim goes out while the first report waits for its answer; after
    // it, two reports wait (more than the concurrency), so no third claim until they are answered.
    const until = Date.now() + 5_000;
    while (log.filter((e) => e.startsWith('claimed')).length < 2 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(log).toEqual(['claimed 1', 'report sent', 'claimed 1']);
    open();
    const { items } = await client.tasks.list({ type });
    for (const t of items) await until_(t.id);
    await w.stop();
    expect(log.filter((e) => e.startsWith('claimed'))).toEqual(['claimed 1', 'claimed 1', 'claimed 1']);
  });

  it('never runs more handlers than its concurrency, and claims in batches', async () => {
    const type = freshType();
    let now = 0;
    let peak = 0;
    const w = worker(
      [type],
      async () => {
        now++;
        peak = Math.max(peak, now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
      },
      { concurrency: 4 },
    );
    const { tasks } = {
      tasks: await client.tasks.createBatch({ tasks: Array.from({ length: 40 }, () => ({ type })) }),
    };
    for (const t of tasks) await until(t.id, (x) => x.status === 'completed');
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
    await w.stop();
  });

  it('on stop, lets running handlers finish within the grace period and releases the rest', async () => {
    const type = freshType();
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const w = worker(
      [type],
      (_task, ctx) => {
        holding();
        // Never finishes by itself; only the end of the grace period aborts it.
        return new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
        );
      },
      { shutdownGraceMs: 200 },
    );
    const t = await client.tasks.create({ type });
    await held;
    await w.stop();
    const after = await client.tasks.get(t.id);
    expect(after.status).toBe('queued');
    expect(after.retryCount).toBe(0); // a release spends no retry
    expect(after.attempt).toBe(1);
    expect(after.lease).toBeNull();
  });
});
