/**
 * Three `tasklane serve` processes on one PostgreSQL schema act as one service (SPEC §12, issue 4):
 * a change made through one node wakes long-polls held on another within 50 ms; a type's
 * concurrency and rate limit hold across the nodes; 8 worker processes spread over the nodes
 * complete 10,000 tasks exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, eventOf, pollUntil, startWorkerProcess, stopAll, type Child } from '../reliability/harness.js';
import {
  call,
  describePg,
  expectStatus,
  fileSchema,
  listType,
  ROOT_KEY,
  startNode,
  testPgUrl,
  viaPort,
  type PgNode,
  type WireTask,
} from './cluster.js';
import { TcpProxy } from './tcp-proxy.js';
import { claimWakeups, figures, getWakeups } from './wakeups.js';

const schema = fileSchema('three');
let nodes: PgNode[] = [];
let proxyA: TcpProxy;
const node = (i: number): PgNode => nodes[i % nodes.length]!;

interface Stats {
  byType: Record<string, Record<string, number> | undefined>;
}

/** A handler's work (not a wait for anything). */
const work = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The most timestamps (epoch ms) that fall in any window of `windowMs` (both ends included). */
function busiestWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((x, y) => x - y);
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! > windowMs - 1) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** The most intervals [from, to] open at one moment. */
function mostAtOnce(intervals: Array<{ from: number; to: number }>): number {
  const edges = intervals.flatMap((iv) => [
    { at: iv.from, d: 1 },
    { at: iv.to, d: -1 },
  ]);
  // At equal times an end goes first: a task finished and another started at that moment is not two.
  edges.sort((x, y) => x.at - y.at || x.d - y.d);
  let open = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (open += e.d));
  return most;
}

describePg('multi-node: three servers on one PostgreSQL schema', () => {
  beforeAll(async () => {
    assertBuilt();
    // node-a reaches PostgreSQL through a proxy that only watches (see wakeups.ts).
    const target = new URL(testPgUrl());
    proxyA = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    // All three at once: they migrate one empty schema and bootstrap one root key concurrently.
    nodes = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((name, i) =>
        startNode({ name, schema, ...(i === 0 ? { databaseUrl: viaPort(proxyA.port) } : {}) }),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await proxyA?.close();
  });

  it('cross-node wake-up: a long-poll claim and a GET ?wait= on node A answer within 50 ms (median) of a change on node B', async () => {
    const [a, b] = [node(0), node(1)];
    const claims = figures(
      'long-poll claim (waitMs 10000) on node-a woken by a create on node-b',
      await claimWakeups({ waiter: a, proxy: proxyA, changer: b, n: 20, tag: 'wake-claim', waitMs: 10_000 }),
    );
    const gets = figures(
      'GET ?wait=10 + If-None-Match on node-a woken by a PATCH on node-b',
      await getWakeups({ waiter: a, proxy: proxyA, changer: b, n: 20, tag: 'wake-get', waitS: 10 }),
    );
    console.log(`[multinode] ${claims.text}`);
    console.log(`[multinode] ${gets.text}`);
    for (const f of [claims, gets]) {
      expect(f.median).toBeLessThan(50);
      expect(f.max).toBeLessThan(500);
    }
  }, 60_000);

  it('type concurrency 3 across three nodes: never more than 3 in progress at once', async () => {
    const type = 'limited-concurrency';
    const TASKS = 45;
    const HOLD_MS = 80;
    expectStatus(await call(node(0), 'PUT', `/v1/types/${type}`, { body: { concurrency: 3 } }), 200, 'PUT type');
    const created = expectStatus(
      await call<{ tasks: WireTask[] }>(node(2), 'POST', '/v1/tasks/batch', {
        body: { tasks: Array.from({ length: TASKS }, (_, i) => ({ type, input: { i } })) },
      }),
      201,
      'batch',
    ).tasks;

    // Held from the claim's answer to the complete's sending: surely in progress all that time.
    const held: Array<{ from: number; to: number; node: string; id: string }> = [];
    const failures: string[] = [];
    let completed = 0;
    const deadline = Date.now() + 30_000;
    const claimer = async (n: PgNode, workerId: string) => {
      while (completed < TASKS && Date.now() < deadline) {
        const claim = await call<{ tasks: WireTask[] }>(n, 'POST', '/v1/tasks/claim', {
          body: { types: [type], workerId, limit: 2, waitMs: 1000, leaseMs: 30_000 },
        });
        if (claim.status !== 200) {
          failures.push(`claim on ${n.name}: ${claim.status} ${claim.code ?? claim.error}`);
          continue;
        }
        await Promise.all(
          claim.body.tasks.map(async (t) => {
            await work(HOLD_MS);
            const to = performance.timeOrigin + performance.now();
            const done = await call(n, 'POST', `/v1/tasks/${t.id}/complete`, { body: { leaseId: t.lease?.id } });
            if (done.status !== 200) failures.push(`complete on ${n.name}: ${done.status} ${done.code}`);
            else completed++;
            held.push({ from: claim.answeredAt, to, node: n.name, id: t.id });
          }),
        );
      }
    };
    // The server's own count, read (one snapshot each) through every node in turn while they work.
    const sampled: number[] = [];
    const sampler = async () => {
      for (let i = 0; completed < TASKS && Date.now() < deadline; i++) {
        const stats = await call<Stats>(node(i), 'GET', '/v1/stats');
        if (stats.status === 200) sampled.push(stats.body.byType[type]?.in_progress ?? 0);
        await work(5);
      }
    };
    const started = Date.now();
    await Promise.all([...nodes.flatMap((n) => [claimer(n, `${n.name}-w1`), claimer(n, `${n.name}-w2`)]), sampler()]);
    const elapsed = Date.now() - started;

    const overlap = mostAtOnce(held);
    const sampledMax = Math.max(...sampled);
    const byNode = nodes.map((n) => `${n.name} ${held.filter((h) => h.node === n.name).length}`).join(', ');
    console.log(
      `[multinode] type concurrency 3: ${TASKS} tasks by 6 claimers on 3 nodes in ${elapsed} ms (${byNode}); ` +
        `in_progress from ${sampled.length} /v1/stats samples: max ${sampledMax}; most held at once by the claimers: ${overlap}`,
    );
    expect(failures).toEqual([]);
    expect(completed).toBe(TASKS);
    expect(held.map((h) => h.id).sort()).toEqual(created.map((t) => t.id).sort());
    expect(sampledMax).toBeLessThanOrEqual(3);
    expect(overlap).toBeLessThanOrEqual(3);
    // The limit was reached, not just respected by idle claimers.
    expect(Math.max(sampledMax, overlap)).toBe(3);
  }, 60_000);

  it('type rate limit 20 per 1000 ms across three nodes: no more than 20 claims in any 1 s window', async () => {
    const type = 'limited-rate';
    const RUN_MS = 3500;
    expectStatus(
      await call(node(1), 'PUT', `/v1/types/${type}`, { body: { rateLimit: { count: 20, perMs: 1000 } } }),
      200,
      'PUT type',
    );
    expectStatus(
      await call(node(2), 'POST', '/v1/tasks/batch', {
        body: { tasks: Array.from({ length: 200 }, (_, i) => ({ type, input: { i } })) },
      }),
      201,
      'batch',
    );
    const failures: string[] = [];
    const claimedVia = new Map<string, string>();
    const until = Date.now() + RUN_MS;
    const claimer = async (n: PgNode, workerId: string) => {
      while (Date.now() < until) {
        const claim = await call<{ tasks: WireTask[] }>(n, 'POST', '/v1/tasks/claim', {
          body: { types: [type], workerId, limit: 5, waitMs: 500, leaseMs: 30_000 },
        });
        if (claim.status !== 200) {
          failures.push(`claim on ${n.name}: ${claim.status} ${claim.code ?? claim.error}`);
          continue;
        }
        for (const t of claim.body.tasks) claimedVia.set(t.id, n.name);
        await Promise.all(
          claim.body.tasks.map(async (t) => {
            const done = await call(n, 'POST', `/v1/tasks/${t.id}/complete`, { body: { leaseId: t.lease?.id } });
            if (done.status !== 200) failures.push(`complete on ${n.name}: ${done.status} ${done.code}`);
          }),
        );
      }
    };
    await Promise.all(nodes.flatMap((n) => [claimer(n, `${n.name}-r1`), claimer(n, `${n.name}-r2`)]));

    // Claim times as the database recorded them (startedAt of a first attempt: the claim's clock).
    const started = (await listType(node(0), type)).filter((t) => t.startedAt !== null);
    const times = started.map((t) => Date.parse(t.startedAt!));
    const busiest = busiestWindow(times, 1000);
    const span = Math.max(...times) - Math.min(...times);
    const byNode = nodes.map((n) => `${n.name} ${[...claimedVia.values()].filter((v) => v === n.name).length}`);
    console.log(
      `[multinode] rate limit 20/1000 ms: ${started.length} claims over ${span} ms by 6 claimers on 3 nodes ` +
        `(${byNode.join(', ')}); busiest 1 s window: ${busiest} claims`,
    );
    expect(failures).toEqual([]);
    expect(started.every((t) => t.attempt === 1)).toBe(true);
    expect([...claimedVia.keys()].sort()).toEqual(started.map((t) => t.id).sort());
    expect(busiest).toBeLessThanOrEqual(20);
    // The limit held the claimers back, and let them claim at its pace.
    expect(busiest).toBe(20);
    expect(started.length).toBeGreaterThanOrEqual(50);
  }, 60_000);

  it('3 nodes, 8 worker processes, 10,000 tasks: every task completed exactly once, 0 lost', async () => {
    const TASKS = 10_000;
    const BATCH = 1_000;
    const WORKERS = 8;
    const type = 'exactly-once';
    const workers: Child[] = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        startWorkerProcess({
          mode: 'count',
          url: node(i).url,
          key: ROOT_KEY,
          type,
          workerId: `worker-${i}@${node(i).name}`,
          concurrency: 16,
          leaseMs: 30_000,
        }),
      ),
    );

    // The workers wait on their nodes already: the clock runs from the first create.
    const started = Date.now();
    const ids: string[] = [];
    for (let b = 0; b < TASKS / BATCH; b++) {
      const batch = await call<{ tasks: WireTask[] }>(node(b), 'POST', '/v1/tasks/batch', {
        body: { tasks: Array.from({ length: BATCH }, (_, i) => ({ type, input: { n: b * BATCH + i } })) },
      });
      ids.push(...expectStatus(batch, 201, `batch ${b} on ${node(b).name}`).tasks.map((t) => t.id));
    }
    const createdMs = Date.now() - started;
    await pollUntil(
      `${TASKS} completed`,
      async () => {
        const stats = await call<Stats>(node(0), 'GET', '/v1/stats');
        return (stats.body.byType[type]?.completed ?? 0) >= TASKS ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    const elapsedMs = Date.now() - started;

    // Stopped by SIGTERM, each worker prints the ids its handler ran, after its last report went out.
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
    const known = new Set(ids);
    const strangers = [...seen.keys()].filter((id) => !known.has(id));
    const tasks = await listType(node(2), type);
    const notOnce = tasks.filter((t) => t.status !== 'completed' || t.attempt !== 1);

    const rate = Math.round(TASKS / (elapsedMs / 1000));
    console.log(
      `[multinode] exactly once: ${TASKS} tasks created through 3 nodes, ${WORKERS} workers x 16 spread over them: ` +
        `${rate} tasks/s (${elapsedMs} ms from first create to all completed; creates took ${createdMs} ms); ` +
        `per worker ${reports.map((r) => r.handled.length).join('/')}; duplicates ${duplicates.length}, lost ${lost.length}`,
    );
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    expect(duplicates).toEqual([]);
    expect(lost).toEqual([]);
    expect(strangers).toEqual([]);
    expect(seen.size).toBe(TASKS);
    expect(tasks.length).toBe(TASKS);
    expect(notOnce.map((t) => ({ id: t.id, status: t.status, attempt: t.attempt }))).toEqual([]);
    // Every node served workers that did work.
    for (const n of nodes) {
      expect(reports.some((r) => r.worker.endsWith(`@${n.name}`) && r.handled.length > 0)).toBe(true);
    }
    const stats = expectStatus(await call<Stats>(node(1), 'GET', '/v1/stats'), 200, 'stats');
    expect(stats.byType[type]).toMatchObject({ completed: TASKS, queued: 0, in_progress: 0, failed: 0 });
  }, 120_000);
});
