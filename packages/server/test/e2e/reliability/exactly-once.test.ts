/**
 * Throughput without loss or duplication: 8 SDK worker processes drain 10,000 tasks from one
 * `tasklane serve`; the side effects their handlers report must cover every task exactly once.
 */
import { TasklaneClient, type Task } from '@tasklane/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  eventOf,
  freePort,
  pollUntil,
  startServerProcess,
  startWorkerProcess,
  stopAll,
  tempDir,
  type Child,
  type ServerProcess,
} from './harness.js';

const TASKS = 10_000;
const BATCH = 1_000;
const WORKERS = 8;
const CONCURRENCY = 16;

let server: ServerProcess;

beforeAll(async () => {
  assertBuilt();
  server = await startServerProcess({ port: await freePort(), dataDir: tempDir('exactly-once') });
});
afterAll(stopAll);

describe('reliability: exactly once', () => {
  it(`${WORKERS} concurrent workers, 10,000 tasks: every task completed exactly once`, async () => {
    const client = new TasklaneClient({ url: server.url, key: server.rootKey });
    const workers: Child[] = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        startWorkerProcess({
          mode: 'count',
          url: server.url,
          key: server.rootKey,
          type: 'count',
          workerId: `count-worker-${i}`,
          concurrency: CONCURRENCY,
          leaseMs: 30_000,
        }),
      ),
    );

    // The workers are already waiting on the server: the clock runs from the first create.
    const started = Date.now();
    const ids: string[] = [];
    for (let b = 0; b < TASKS / BATCH; b++) {
      const batch = await client.tasks.createBatch({
        tasks: Array.from({ length: BATCH }, (_, i) => ({ type: 'count', input: { n: b * BATCH + i } })),
      });
      ids.push(...batch.map((t) => t.id));
    }
    const createdMs = Date.now() - started;
    await pollUntil(
      `${TASKS} completed`,
      async () => {
        const stats = await client.insights.stats();
        return (stats.byStatus.completed ?? 0) >= TASKS ? stats : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    const elapsedMs = Date.now() - started;

    // Stop the workers; each prints the ids its handler ran, after its last report is sent.
    const exits = await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    const reports = workers.map((w) => {
      const done = w.lines.map((l) => eventOf<{ handled: string[]; errors: string[] }>(l, 'done')).find((d) => d);
      if (done === undefined) throw new Error(`${w.name} printed no done line\n${w.output}`);
      return { worker: w.name, ...done };
    });
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));

    const seen = new Map<string, string[]>();
    for (const r of reports) for (const id of r.handled) seen.set(id, [...(seen.get(id) ?? []), r.worker]);
    const duplicates = [...seen].filter(([, by]) => by.length > 1);
    const lost = ids.filter((id) => !seen.has(id));
    const strangers = [...seen.keys()].filter((id) => !ids.includes(id));

    const tasks = new Map<string, Task>();
    for await (const t of client.tasks.listAll({ type: 'count', limit: 200 })) tasks.set(t.id, t);
    const notOnce = [...tasks.values()].filter(
      (t) => t.status !== 'completed' || t.attempt !== 1 || t.pollCount !== 1 || t.retryCount !== 0,
    );
    const wrongResult = [...tasks.values()].filter((t) => {
      const by = (t.result as { by?: string } | null)?.by;
      return by === undefined || seen.get(t.id)?.[0] !== by;
    });

    const perWorker = reports.map((r) => r.handled.length);
    const rate = Math.round(TASKS / (elapsedMs / 1000));
    console.log(
      `[reliability] exactly once: ${TASKS} tasks, ${WORKERS} workers x ${CONCURRENCY}: ${rate} tasks/s ` +
        `(${elapsedMs} ms from first create to all completed; creates took ${createdMs} ms); ` +
        `per worker ${perWorker.join('/')}; duplicates ${duplicates.length}, lost ${lost.length}`,
    );

    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(lost).toEqual([]);
    expect(strangers).toEqual([]);
    expect(seen.size).toBe(TASKS);
    expect(tasks.size).toBe(TASKS);
    expect(notOnce.map((t) => ({ id: t.id, status: t.status, attempt: t.attempt, pollCount: t.pollCount }))).toEqual(
      [],
    );
    expect(wrongResult.map((t) => t.id)).toEqual([]);
    const stats = await client.insights.stats();
    expect(stats.byType.count).toMatchObject({ completed: TASKS, queued: 0, in_progress: 0, failed: 0 });
  }, 120_000);
});
