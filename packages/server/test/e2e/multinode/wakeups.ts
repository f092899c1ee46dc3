/**
 * Cross-node wake-up latency: a request held on one node (a long-poll claim, or GET ?wait= with
 * If-None-Match), woken by a change made through another node. Latency is from the change's
 * answer to the held request's answer.
 *
 * The change must come once the held request is parked (its first attempt done, its waiter
 * armed), or the attempt finds it and nothing is woken. No endpoint tells; the waiting node's
 * traffic to PostgreSQL does: it goes through a TcpProxy, which counts how often the request's key
 * (the claim's type, the task's id: statement parameters) went to the database. An empty claim
 * attempt mentions its type 3 times (the type's settings, the claimable rows, the next run time);
 * a GET ?wait= mentions its task twice before it waits (its document, one statement with the
 * steps, read once, then again once the waiter is armed). Only then is the change made.
 */
import { pollUntil } from '../reliability/harness.js';
import { call, expectStatus, median, round, type Answer, type PgNode, type WireTask } from './cluster.js';
import type { TcpProxy } from './tcp-proxy.js';

/** Mentions of its key a held request sends to the database before it waits (see above). */
export const PARKED_MENTIONS = { claim: 3, get: 2 } as const;

export interface WakeFigures {
  /** From the change's answer to the held request's answer, per sample (negative: the held one came first). */
  latencies: number[];
  median: number;
  max: number;
  text: string;
}

export function figures(label: string, latencies: number[]): WakeFigures {
  const clamped = latencies.map((ms) => Math.max(0, ms));
  const m = median(clamped);
  const max = Math.max(...clamped);
  const text = `${label}: ${latencies.length} samples, median ${round(m)} ms, max ${round(max)} ms (${latencies.map(round).join(' ')})`;
  return { latencies, median: m, max, text };
}

/** Resolves once `proxy` saw `key` go to the database `mentions` times (the request is parked). */
export async function untilParked(
  proxy: TcpProxy,
  key: string,
  mentions: number,
  held: Promise<Answer>,
  what: string,
): Promise<void> {
  let answered = false;
  void held.then(() => (answered = true));
  await pollUntil(
    `${what} parked (${mentions} mentions of ${key} sent to PostgreSQL; if the queries changed, see PARKED_MENTIONS)`,
    async () => {
      if (answered) throw new Error(`${what} answered before it was parked: ${JSON.stringify(await held)}`);
      return proxy.sent(key) >= mentions ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 2 },
  );
}

/** `n` long-poll claims (waitMs) on `waiter`, each for a type of its own, each woken by a create on `changer`. */
export async function claimWakeups(opts: {
  waiter: PgNode;
  /** The proxy between `waiter` and PostgreSQL. */
  proxy: TcpProxy;
  changer: PgNode;
  n: number;
  tag: string;
  waitMs: number;
}): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < opts.n; i++) {
    const type = `${opts.tag}-${i}`;
    opts.proxy.watch(type);
    const held = call<{ tasks: WireTask[] }>(opts.waiter, 'POST', '/v1/tasks/claim', {
      body: { types: [type], workerId: `${opts.tag}-waiter`, limit: 1, waitMs: opts.waitMs },
      timeoutMs: opts.waitMs + 10_000,
    });
    await untilParked(opts.proxy, type, PARKED_MENTIONS.claim, held, `claim ${type} on ${opts.waiter.name}`);
    opts.proxy.forget(type);
    const create = await call<WireTask>(opts.changer, 'POST', '/v1/tasks', { body: { type } });
    const created = expectStatus(create, 201, `create ${type} on ${opts.changer.name}`);
    const claim = await held;
    const claimed = expectStatus(claim, 200, `claim ${type} on ${opts.waiter.name}`).tasks;
    if (claimed[0]?.id !== created.id) {
      throw new Error(
        `the claim for ${type} on ${opts.waiter.name} answered ${JSON.stringify(claimed)} after ${round(claim.ms)} ms`,
      );
    }
    latencies.push(claim.answeredAt - create.answeredAt);
  }
  return latencies;
}

/** `n` GET ?wait= with If-None-Match on `waiter`, each woken by a PATCH of its task on `changer`. */
export async function getWakeups(opts: {
  waiter: PgNode;
  proxy: TcpProxy;
  changer: PgNode;
  n: number;
  tag: string;
  waitS: number;
}): Promise<number[]> {
  const batch = await call<{ tasks: WireTask[] }>(opts.changer, 'POST', '/v1/tasks/batch', {
    body: { tasks: Array.from({ length: opts.n }, (_, i) => ({ type: opts.tag, title: `watched ${i}` })) },
  });
  const latencies: number[] = [];
  for (const [i, task] of expectStatus(batch, 201, `batch of ${opts.tag}`).tasks.entries()) {
    opts.proxy.watch(task.id);
    const held = call<WireTask>(opts.waiter, 'GET', `/v1/tasks/${task.id}?wait=${opts.waitS}`, {
      headers: { 'if-none-match': `"${task.version}"` },
      timeoutMs: opts.waitS * 1000 + 10_000,
    });
    await untilParked(opts.proxy, task.id, PARKED_MENTIONS.get, held, `GET ?wait of ${task.id} on ${opts.waiter.name}`);
    opts.proxy.forget(task.id);
    const patch = await call<WireTask>(opts.changer, 'PATCH', `/v1/tasks/${task.id}`, {
      body: { title: `changed ${i}` },
    });
    const patched = expectStatus(patch, 200, `PATCH on ${opts.changer.name}`);
    const get = await held;
    const seen = expectStatus(get, 200, `GET ?wait on ${opts.waiter.name}`);
    if (seen.version !== patched.version) {
      throw new Error(
        `GET ?wait on ${opts.waiter.name} answered version ${seen.version}, the PATCH made ${patched.version}`,
      );
    }
    latencies.push(get.answeredAt - patch.answeredAt);
  }
  return latencies;
}
