/**
 * When the dispatcher claims, on SQLite and PostgreSQL: a commit wakes it only when the events it
 * wrote got deliveries (the outbox trigger / the events' statement tells), so a burst of task
 * changes in an org without endpoints costs no claim beyond the poll; one with a delivery wakes
 * it at once. On PostgreSQL another node hears that too, and only that (the NOTIFY of the
 * events' statement). The poll is set to ten minutes: every claim counted here is a wake-up.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import type { Clock } from '../../src/domain/clock.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { makeHarness, until, type Harness } from '../helpers/http-harness.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import { startReceiver, type Receiver } from './receiver.js';

interface Backend {
  name: string;
  store?: (clock: Clock) => TaskStore;
  /** Another node on the same database (PostgreSQL only). */
  peer?: () => TaskStore;
  /** How many stores of the schema have their LISTEN connection up (change-feed.ts). */
  listening?: () => Promise<number>;
}
const backends: Backend[] = [{ name: 'sqlite' }];
const url = pgUrl();
if (url !== null) {
  const schemas = freshSchema('webhooks-wakeups');
  let schema = '';
  backends.push({
    name: 'postgres',
    store: () => createPostgresStore({ url, schema: (schema = schemas.newSchema()) }),
    peer: () => createPostgresStore({ url, schema }),
    listening: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const sql =
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'";
        const { rows } = await client.query<{ n: number }>(sql, [`tasklane-listen/${schema}`]);
        return rows[0]?.n ?? 0;
      } finally {
        await client.end();
      }
    },
  });
}

describe.each(backends)('dispatcher wake-ups ($name)', (backend) => {
  let h: Harness;
  let r: Receiver;
  let claims = 0;
  let lastClaim: Promise<unknown> = Promise.resolve();
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(() => r.close());
  beforeEach(async () => {
    h = await makeHarness({
      ...(backend.store === undefined ? {} : { store: backend.store }),
      webhooks: { allowPrivate: true, pollMs: 600_000 },
    });
    claims = 0;
    const webhooks = h.store.webhooks;
    const claim = webhooks.claimDeliveries.bind(webhooks);
    webhooks.claimDeliveries = (limit, leaseMs) => {
      claims++;
      return (lastClaim = claim(limit, leaseMs));
    };
    r.received.length = 0;
  });
  afterEach(async () => {
    await h.services.dispatcher.stop();
    await h.cleanup();
  });

  /** The dispatcher started and its first pass over: it is idle, and claims only when woken. */
  const startIdle = async () => {
    h.services.dispatcher.start();
    await until(() => claims === 1, 'the first pass');
    await lastClaim;
    // The pass ends in the microtasks after its claim answered.
    await new Promise((resolve) => setImmediate(resolve));
    expect(claims).toBe(1);
  };

  /** Tasks created, claimed and completed in the key's org: a few dozen events in many units. */
  const burst = async (key: string) => {
    for (let i = 0; i < 10; i++) {
      const t = await h.createTask(key, { type: 'busy' });
      const claimed = await h.call(key, 'POST', `/v1/tasks/${t.id}/claim`, { workerId: 'w' });
      expect(claimed.statusCode, claimed.body).toBe(200);
      const leaseId = claimed.json<{ lease: { id: string } }>().lease.id;
      const done = await h.call(key, 'POST', `/v1/tasks/${t.id}/complete`, { leaseId, result: { i } });
      expect(done.statusCode, done.body).toBe(200);
    }
  };

  it('claims nothing for a burst of changes in an org without endpoints, and at once for a delivery', async () => {
    // Org b has an endpoint, for task.created only: its other events get no delivery either.
    const hook = await h.call(h.b.admin, 'POST', '/v1/webhooks', { url: r.url, events: ['task.created'] });
    expect(hook.statusCode, hook.body).toBe(201);
    await startIdle();
    await burst(h.a.admin);
    // A wake-up claims in the commit's own turn (the dispatcher is idle): any would show by now.
    expect(claims).toBe(1);

    await h.createTask(h.b.admin, { type: 'watched' });
    await until(() => r.received.length === 1, 'the delivery');
    expect(claims).toBeGreaterThan(1);
  });

  // Another node exists on PostgreSQL only: SQLite's run has no such test (not a skipped one).
  const newPeer = backend.peer;
  if (newPeer === undefined) return;
  it('wakes another node for deliveries only', async () => {
    const peer = newPeer();
    let woken = 0;
    const stop = peer.webhooks.onDeliveries(() => woken++);
    try {
      // Both stores of the schema (the harness's, for its change hub, and the peer) listening.
      await until(async () => (await backend.listening!()) === 2, 'the peer listening');
      const hook = await h.call(h.b.admin, 'POST', '/v1/webhooks', { url: r.url, events: ['task.created'] });
      expect(hook.statusCode, hook.body).toBe(201);

      await burst(h.a.admin);
      await h.createTask(h.b.admin, { type: 'watched' });
      // Notifications arrive in commit order: had the burst announced anything, it came first.
      await until(() => woken > 0, 'the peer woken');
      expect(woken).toBe(1);
    } finally {
      stop();
      await peer.close();
    }
  });
});
