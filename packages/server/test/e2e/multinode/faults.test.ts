/**
 * PostgreSQL made unreachable under two running nodes, then brought back (SPEC §9, §12; issue 4,
 * "Faults"). Each node reaches the database through a TCP proxy of its own (so pg_stat_activity
 * tells the nodes' connections apart); cutting the proxies drops every connection and refuses new
 * ones, as a stopped database does. The tests run in order, one outage:
 * 1. while cut: every request answers 503 STORAGE_UNAVAILABLE within 5 s, /readyz 503, and a node
 *    started meanwhile waits and retries;
 * 2. restored: every node resumes by itself, LISTEN included;
 * 3. after the leases' real expiry: nothing stuck in progress, no created task lost;
 * 4. the pool: no node holds more connections than its pool (and its one LISTEN connection).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, pollUntil, sleepUntil, stopAll, type Child } from '../reliability/harness.js';
import {
  call,
  connectionsOf,
  describePg,
  expectStatus,
  fileSchema,
  listType,
  median,
  round,
  spawnNode,
  startNode,
  testPgUrl,
  untilListening,
  viaPort,
  type Answer,
  type PgNode,
  type WireTask,
} from './cluster.js';
import { TcpProxy } from './tcp-proxy.js';
import { Traffic } from './traffic.js';
import { claimWakeups, figures, PARKED_MENTIONS, untilParked } from './wakeups.js';

const schema = fileSchema('faults');
const POOL = 4;
const LEASE_MS = 1000;
/** SPEC §9: a storage outage answers 503 within this, never a hang. */
const OUTAGE_ANSWER_MS = 5000;
const TYPE = 'fault';
/** Requests sent at once to each node in the pool test: ten times its pool. */
const BURST = 10 * POOL;

interface Stats {
  byType: Record<string, Record<string, number> | undefined>;
}

const proxies = new Map<string, TcpProxy>();
let a: PgNode;
let b: PgNode;
/** Node C: started while its database was unreachable. */
let late: { child: Child; port: number };
let c: PgNode | undefined;

const traffic = new Traffic(TYPE, LEASE_MS);
const { log, created } = traffic;
let cutAt = 0;
let restoredAt = 0;
/** Resolves with the time no task of TYPE was in progress any more, after the restore. */
let sweeping: Promise<number> | undefined;

describePg('faults: PostgreSQL unreachable under two nodes, then back', () => {
  beforeAll(async () => {
    assertBuilt();
    const target = new URL(testPgUrl());
    for (const name of ['node-a', 'node-b', 'node-c']) {
      proxies.set(name, await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) }));
    }
    const started = await Promise.all(
      ['node-a', 'node-b'].map((name) =>
        startNode({ name, schema, pool: POOL, databaseUrl: viaPort(proxies.get(name)!.port) }),
      ),
    );
    [a, b] = [started[0]!, started[1]!];
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    for (const p of proxies.values()) await p.close();
  });

  it('while cut: every request answers 503 STORAGE_UNAVAILABLE within 5 s, /readyz 503; a node started meanwhile waits', async () => {
    // Before: tasks created through both nodes, and work under way on both.
    for (let i = 0; i < 40; i++) expectStatus(await traffic.create(i % 2 === 0 ? a : b), 201, 'create before the cut');
    const load = traffic.start([a, b]);
    await pollUntil(
      'load under way',
      async () => (log.filter((l) => l.answer.status < 300).length >= 200 ? true : undefined),
      { timeoutMs: 10_000 },
    );
    // Long-polls held on A when the database goes away must still answer (in their time + 5 s).
    const watched = expectStatus(await traffic.create(a, 'fault-watch'), 201, 'watched task');
    const proxyA = proxies.get('node-a')!;
    proxyA.watch(watched.id);
    proxyA.watch('fault-idle');
    const heldGet = call(a, 'GET', `/v1/tasks/${watched.id}?wait=3`, {
      headers: { 'if-none-match': `"${watched.version}"` },
    });
    const heldClaim = call(a, 'POST', '/v1/tasks/claim', {
      body: { types: ['fault-idle'], workerId: 'held', waitMs: 3000 },
    });
    await untilParked(proxyA, watched.id, PARKED_MENTIONS.get, heldGet, 'held GET ?wait');
    await untilParked(proxyA, 'fault-idle', PARKED_MENTIONS.claim, heldClaim, 'held claim');
    proxyA.forget(watched.id);
    proxyA.forget('fault-idle');

    // (Meanwhile the held requests' first units commit.) Ten tasks claimed through B by a worker
    // that goes quiet: their leases run out during the outage.
    const quiet = expectStatus(await traffic.claim(b, 0, 10), 200, 'claim before the cut').tasks;
    expect(quiet).toHaveLength(10);
    const inProgressAtCut = expectStatus(await call<Stats>(a, 'GET', '/v1/stats'), 200, 'stats').byType[TYPE]
      ?.in_progress;

    cutAt = Date.now();
    await Promise.all([...proxies.values()].map((p) => p.cut()));
    late = await spawnNode({ name: 'node-c', schema, pool: POOL, databaseUrl: viaPort(proxies.get('node-c')!.port) });

    // The load keeps going into the outage; and each node gets a burst of every kind of request.
    await pollUntil(
      'load requests answered during the cut',
      async () =>
        [a, b].every((n) => log.filter((l) => l.node === n.name && l.answer.sentAt > cutAt).length >= 10)
          ? true
          : undefined,
      { timeoutMs: 15_000 },
    );
    const probe = (n: PgNode, i: number): Promise<Answer> => {
      switch (i % 4) {
        case 0:
          return traffic.logged(n, 'get', call(n, 'GET', `/v1/tasks/${quiet[i % quiet.length]!.id}`));
        case 1:
          return traffic.create(n);
        case 2:
          return traffic.claim(n, 0);
        default:
          return traffic.claim(n, 1000);
      }
    };
    const burst = await Promise.all([a, b].flatMap((n) => Array.from({ length: 60 }, (_, i) => probe(n, i))));
    const readyz = await Promise.all([a, b].map((n) => call(n, 'GET', '/readyz')));
    const held = await Promise.all([heldGet, heldClaim]);
    // Node C, started into the outage: still running, telling it is waiting, more than once.
    const retries = await pollUntil(
      'node-c retrying',
      async () => {
        const n = late.child.output.match(/storage not reachable/g)?.length ?? 0;
        return n >= 2 ? n : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(await late.child.exitWithin(0)).toBeNull();
    await load.stop();

    const during = log.filter((l) => l.answer.sentAt > cutAt);
    const straddling = log.filter((l) => l.answer.sentAt <= cutAt && l.answer.answeredAt > cutAt);
    const ms = during.map((l) => l.answer.ms);
    console.log(
      `[faults] while cut: ${during.length} requests (${burst.length} in the burst) answered in median ${round(median(ms))} ms, ` +
        `max ${round(Math.max(...ms))} ms: ${during.filter((l) => l.answer.code === 'STORAGE_UNAVAILABLE').length} 503 STORAGE_UNAVAILABLE; ` +
        `${straddling.length} in flight at the cut, max ${round(Math.max(0, ...straddling.map((l) => l.answer.ms)))} ms; ` +
        `/readyz ${readyz.map((r) => `${r.status} in ${round(r.ms)} ms`).join(', ')}; ` +
        `held long-polls ${held.map((h) => `${h.status} after ${round(h.ms)} ms`).join(', ')}; node-c retried ${retries} times; ` +
        `${inProgressAtCut} tasks in progress at the cut`,
    );
    const wrong = during.filter(
      (l) => l.answer.status !== 503 || l.answer.code !== 'STORAGE_UNAVAILABLE' || l.answer.ms >= OUTAGE_ANSWER_MS,
    );
    expect(
      wrong.map((l) => ({ node: l.node, kind: l.kind, status: l.answer.status, code: l.answer.code, ms: l.answer.ms })),
    ).toEqual([]);
    for (const kind of ['get', 'create', 'claim', 'long-poll claim'])
      expect(during.some((l) => l.kind === kind)).toBe(true);
    // Cut mid-request: answered either way, never left hanging.
    expect(straddling.filter((l) => l.answer.status === 0 || l.answer.ms >= OUTAGE_ANSWER_MS)).toEqual([]);
    for (const r of readyz) {
      expect(r.status).toBe(503);
      expect(r.ms).toBeLessThan(OUTAGE_ANSWER_MS);
    }
    expect(held[0].status === 304 || held[0].status === 503).toBe(true);
    expect(held[0].ms).toBeLessThan(3000 + OUTAGE_ANSWER_MS);
    expect(held[1].status === 200 || held[1].status === 503).toBe(true);
    expect(held[1].ms).toBeLessThan(3000 + OUTAGE_ANSWER_MS);
  }, 60_000);

  it('restored: both nodes recover by themselves, LISTEN included (a cross-node long-poll wakes in < 500 ms); the node started during the outage serves', async () => {
    restoredAt = Date.now();
    await Promise.all([...proxies.values()].map((p) => p.restore()));
    // From now on the sweepers can take back the leases that expired during the outage: watched
    // from here, checked by the next test.
    sweeping = pollUntil(
      'no task in progress',
      async () => {
        const stats = await call<Stats>(a, 'GET', '/v1/stats');
        return stats.status === 200 && (stats.body.byType[TYPE]?.in_progress ?? 0) === 0 ? Date.now() : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    sweeping.catch(() => undefined);
    const ready = await Promise.all(
      [a, b].map((n) =>
        pollUntil(
          `${n.name} ready`,
          async () => ((await call(n, 'GET', '/readyz')).status === 200 ? Date.now() - restoredAt : undefined),
          {
            timeoutMs: 15_000,
          },
        ),
      ),
    );
    c = await untilListening(late.child, late.port, 20_000);
    const cListening = Date.now() - restoredAt;
    const nodes = [a, b, c];
    // Every node answers every kind of request again.
    for (const [i, n] of nodes.entries()) {
      expectStatus(await call(n, 'GET', '/readyz'), 200, `${n.name} /readyz`);
      const t = expectStatus(await traffic.create(n, 'after'), 201, `${n.name} create`);
      const other = nodes[(i + 1) % nodes.length]!;
      expectStatus(await call(other, 'GET', `/v1/tasks/${t.id}`), 200, `${other.name} get`);
      const got = expectStatus(
        await call<{ tasks: WireTask[] }>(other, 'POST', '/v1/tasks/claim', {
          body: { types: ['after'], workerId: 'after', limit: 1, waitMs: 0 },
        }),
        200,
        `${other.name} claim`,
      ).tasks;
      expect(got.map((x) => x.id)).toEqual([t.id]);
      expectStatus(
        await call(n, 'POST', `/v1/tasks/${t.id}/complete`, { body: { leaseId: got[0]!.lease?.id } }),
        200,
        'complete',
      );
    }
    // LISTEN: each node's own connection is back and listening (its reconnect backs off up to 5 s)...
    const listening = await Promise.all(
      nodes.map((n) =>
        pollUntil(
          `${n.name} LISTEN again`,
          async () =>
            (await connectionsOf(schema, proxies.get(n.name)!.upstreamPorts)).listening
              ? Date.now() - restoredAt
              : undefined,
          { timeoutMs: 20_000, intervalMs: 50 },
        ),
      ),
    );
    // ...and carries changes across nodes again.
    const wakes = [
      figures(
        'claim on node-a, create on node-b',
        await claimWakeups({
          waiter: a,
          proxy: proxies.get('node-a')!,
          changer: b,
          n: 8,
          tag: 'back-ab',
          waitMs: 5000,
        }),
      ),
      figures(
        'claim on node-b, create on node-a',
        await claimWakeups({
          waiter: b,
          proxy: proxies.get('node-b')!,
          changer: a,
          n: 8,
          tag: 'back-ba',
          waitMs: 5000,
        }),
      ),
      figures(
        'claim on node-c, create on node-a',
        await claimWakeups({
          waiter: c,
          proxy: proxies.get('node-c')!,
          changer: a,
          n: 8,
          tag: 'back-ca',
          waitMs: 5000,
        }),
      ),
    ];
    console.log(
      `[faults] restored: /readyz 200 after ${ready.join('/')} ms (node-a/node-b); node-c listening after ${cListening} ms; ` +
        `LISTEN back after ${listening.join('/')} ms (a/b/c)`,
    );
    for (const w of wakes) console.log(`[faults] after restore, ${w.text}`);
    for (const w of wakes) expect(w.max).toBeLessThan(500);
  }, 60_000);

  it('after restore and the leases expiry: nothing stuck in progress past its lease, every task created with 201 still there', async () => {
    const nodes = [a, b, c!];
    // Claims answered before the cut have known leases; one cut mid-claim may have committed unseen,
    // with a lease from before the cut. Wait for the real expiry of both.
    const horizon = Math.max(traffic.lastLeaseExpiry, cutAt + LEASE_MS);
    await sleepUntil(horizon);
    // SPEC §5 sweeps at least every second; the sweepers could run again from the restore on.
    const sweptAt = await sweeping!;
    const sweptAfter = sweptAt - Math.max(horizon, restoredAt);
    expect(sweptAfter).toBeLessThan(2000);
    expect((await listType(a, TYPE)).filter((t) => t.status === 'in_progress')).toEqual([]);
    const tasks = await listType(b, TYPE);
    const ids = new Set(tasks.map((t) => t.id));
    const lost = [...created].filter((id) => !ids.has(id));
    // A create cut after its commit answers 503 but exists: counted, not an error.
    const unacknowledged = tasks.filter((t) => !created.has(t.id)).length;

    // Everything left is claimable and completes: drain it through all three nodes.
    let drained = 0;
    await pollUntil(
      `every ${TYPE} task completed`,
      async () => {
        await Promise.all(
          nodes.map(async (n) => {
            const got = await traffic.claim(n, 300, 50);
            for (const t of got.status === 200 ? got.body.tasks : []) {
              if ((await traffic.complete(n, t)).status === 200) drained++;
            }
          }),
        );
        const all = await listType(c!, TYPE);
        return all.every((t) => t.status === 'completed') ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 0 },
    );
    console.log(
      `[faults] after restore: the last lease expired ${restoredAt - horizon} ms before the restore; no task in progress ` +
        `${sweptAfter} ms after the restore; ${created.size} created with 201, ` +
        `${lost.length} lost, ${unacknowledged} more created by requests cut after their commit; ${drained} drained, all completed`,
    );
    expect(lost).toEqual([]);
  }, 60_000);

  it(`the pool does not leak: after the outage and under load, no node holds more than its pool (${POOL}) + 1 LISTEN connection`, async () => {
    const nodes = [a, b, c!];
    const now = await Promise.all(nodes.map((n) => connectionsOf(schema, proxies.get(n.name)!.upstreamPorts)));
    // A burst past the pool's size on every node, while PostgreSQL and the proxies are watched.
    let bursting = true;
    const samples: Array<{ pool: number; listen: number; proxied: number }[]> = [];
    const watch = (async () => {
      while (bursting) {
        samples.push(
          await Promise.all(
            nodes.map(async (n) => ({
              ...(await connectionsOf(schema, proxies.get(n.name)!.upstreamPorts)),
              proxied: proxies.get(n.name)!.connections,
            })),
          ),
        );
      }
    })();
    const answers = await Promise.all(
      nodes.flatMap((n) =>
        Array.from({ length: BURST }, (_, i) =>
          i % 2 === 0
            ? call(n, 'GET', `/v1/tasks?type=${TYPE}&limit=20`)
            : call(n, 'POST', '/v1/tasks', { body: { type: 'burst' } }),
        ),
      ),
    );
    bursting = false;
    await watch;
    const after = await Promise.all(nodes.map((n) => connectionsOf(schema, proxies.get(n.name)!.upstreamPorts)));
    const most = nodes.map((_, i) => ({
      pool: Math.max(...samples.map((s) => s[i]!.pool)),
      listen: Math.max(...samples.map((s) => s[i]!.listen)),
      proxied: Math.max(...samples.map((s) => s[i]!.proxied)),
    }));
    console.log(
      `[faults] pool ${POOL}: connections per node in pg_stat_activity (pool + LISTEN) after the outage ` +
        `${now.map((x) => `${x.pool}+${x.listen}`).join(', ')}; most during a burst of ${BURST} requests per node ` +
        `(${samples.length} samples) ${most.map((x) => `${x.pool}+${x.listen} (proxied ${x.proxied})`).join(', ')}; ` +
        `after it ${after.map((x) => `${x.pool}+${x.listen}`).join(', ')}; burst answered in max ${round(Math.max(...answers.map((r) => r.ms)))} ms, ` +
        `${answers.filter((r) => r.status === 503).length} of ${answers.length} 503`,
    );
    // Under a burst this far past the pool on a loaded machine, a request may wait longer for a
    // connection than the 3 s connect limit and answer 503 STORAGE_UNAVAILABLE (overload looks like
    // an outage: a known limit, in the README). Anything else is a failure.
    expect(
      answers
        .filter((r) => r.status !== 200 && r.status !== 201 && !(r.status === 503 && r.code === 'STORAGE_UNAVAILABLE'))
        .map((r) => [r.status, r.code, round(r.ms)]),
    ).toEqual([]);
    for (const x of [...now, ...most, ...after]) {
      expect(x.pool).toBeLessThanOrEqual(POOL);
      expect(x.listen).toBeLessThanOrEqual(1);
    }
    for (const x of most) expect(x.proxied).toBeLessThanOrEqual(POOL + 1);
  }, 60_000);
});
