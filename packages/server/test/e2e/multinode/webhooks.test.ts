/**
 * Webhooks on three `tasklane serve` nodes sharing one PostgreSQL schema: every node runs a
 * dispatcher over the same outbox. Tasks are created, claimed, advanced and completed through all
 * three nodes in turn; a local receiver (answering after a random pause, so attempts overlap; the
 * first few answers 500, so some deliveries wait ~5 s for their retry) must accept each delivery
 * exactly once by webhook-id, and get each task's requests in event order: a later delivery is
 * not even attempted while an earlier one of the task is pending.
 * The nodes are stopped (SIGTERM ends their dispatchers) before the count, so no late copy can
 * still be on its way when it is taken.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/receiver.js';
import { assertBuilt, pollUntil, stopAll } from '../reliability/harness.js';
import { call, describePg, expectStatus, fileSchema, startNode, type PgNode } from './cluster.js';

const schema = fileSchema('webhooks');
const TASKS = 30;
/** The receiver's first answers are 500s: those deliveries are retried after the first pause (5 s ±20%). */
const FAILED_FIRST = 6;
const EVENTS = ['task.created', 'task.status_changed', 'task.progress'];

let nodes: PgNode[] = [];
let receiver: Receiver;

describePg('multi-node: webhooks from three nodes', () => {
  beforeAll(async () => {
    assertBuilt();
    receiver = await startReceiver({ delayMs: () => Math.floor(Math.random() * 15) });
    nodes = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((name) => startNode({ name, schema, args: ['--webhook-allow-private'] })),
    );
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await receiver?.close();
  });

  it('each delivery arrives once, and a task’s deliveries in event order', async () => {
    const node = (i: number) => nodes[i % nodes.length]!;
    expectStatus(
      await call(node(0), 'POST', '/v1/webhooks', { body: { url: receiver.url, events: EVENTS } }),
      201,
      'create the endpoint',
    );
    // Each task: created on one node, claimed on the next, progress on the third, completed on
    // the first: four events, each written (with its delivery) by another node than the last.
    const run = async (n: number) => {
      const task = expectStatus(
        await call<{ id: string }>(node(n), 'POST', '/v1/tasks', { body: { type: 'hooked', input: { n } } }),
        201,
        'create',
      );
      const claimed = expectStatus(
        await call<{ lease: { id: string } }>(node(n + 1), 'POST', `/v1/tasks/${task.id}/claim`, {
          body: { workerId: `w${n}` },
        }),
        200,
        'claim',
      );
      const leaseId = claimed.lease.id;
      const path = `/v1/tasks/${task.id}`;
      expectStatus(
        await call(node(n + 2), 'POST', `${path}/heartbeat`, { body: { leaseId, progress: 0.5 } }),
        200,
        'progress',
      );
      expectStatus(await call(node(n), 'POST', `${path}/complete`, { body: { leaseId, result: { n } } }), 200, 'done');
      return task.id;
    };
    receiver.answers.push(...Array<number>(FAILED_FIRST).fill(500));
    const taskIds = await Promise.all(Array.from({ length: TASKS }, (_, n) => run(n)));

    // What should arrive: every event of those tasks (the endpoint takes all their types).
    const expected = new Map<string, number[]>();
    for (const id of taskIds) {
      const page = expectStatus(
        await call<{ items: Array<{ id: string; type: string }> }>(node(0), 'GET', `/v1/tasks/${id}/events`, {
          headers: { accept: 'application/json' },
        }),
        200,
        'events',
      );
      expected.set(
        id,
        page.items.map((e) => Number(e.id)),
      );
    }
    const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
    expect(total).toBe(TASKS * 4);

    const requests = () =>
      receiver.received.map((r) => ({ webhookId: r.headers['webhook-id']!, ok: r.answer === 200, ...parse(r.body) }));
    const accepted = () => requests().filter((r) => r.ok);
    await pollUntil(
      'every delivery',
      async () => new Set(accepted().map((b) => b.webhookId)).size >= total || undefined,
      {
        timeoutMs: 60_000,
      },
    );
    // No node sends anything once stopped: the count below is final.
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));

    const got = accepted();
    expect(got).toHaveLength(total);
    expect(new Set(got.map((b) => b.webhookId)).size).toBe(total);
    const all = requests();
    expect(all.length - got.length).toBe(FAILED_FIRST);
    for (const [taskId, eventIds] of expected) {
      const inOrder = eventIds.sort((a, b) => a - b);
      expect(
        got.filter((b) => b.taskId === taskId).map((b) => b.id),
        `deliveries of ${taskId} in event order`,
      ).toEqual(inOrder);
      // Every request of the task, the refused ones too: the same event again, never a later one first.
      const tried = all.filter((b) => b.taskId === taskId).map((b) => b.id);
      expect(tried, `attempts of ${taskId} never go back`).toEqual([...tried].sort((a, b) => a - b));
    }
  }, 120_000);
});

function parse(body: string): { id: number; taskId: string } {
  const event = JSON.parse(body) as { id: string | number; taskId: string };
  return { id: Number(event.id), taskId: event.taskId };
}
