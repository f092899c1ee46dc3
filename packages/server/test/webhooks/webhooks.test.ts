/**
 * Webhooks over the HTTP app, on SQLite and PostgreSQL: endpoints, signed deliveries to a local
 * receiver (verified with the standardwebhooks package), retries with the same webhook-id, secret
 * rotation, per-task callbacks, paging, redelivery (an endpoint's, and a task's callback by the task
 * route), disabling after 5 days, and org isolation.
 * The dispatcher is driven by hand (runOnce) on a manual clock with a short schedule: nothing waits.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import type { Clock } from '../../src/domain/clock.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { makeHarness, until, type Harness } from '../helpers/http-harness.js';
import { Scrape } from '../helpers/metrics-text.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import { startReceiver, type Receiver } from './receiver.js';

const backends: Array<{ name: string; store?: (clock: Clock) => TaskStore }> = [{ name: 'sqlite' }];
const url = pgUrl();
if (url !== null) {
  const schemas = freshSchema('webhooks-http');
  backends.push({
    name: 'postgres',
    store: (clock) => createPostgresStore({ url, schema: schemas.newSchema(), clock }),
  });
}

describe.each(backends)('webhooks ($name)', (backend) => {
  let h: Harness;
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(() => r.close());
  beforeEach(async () => {
    h = await makeHarness({
      manualClock: true,
      ...(backend.store === undefined ? {} : { store: backend.store }),
      webhooks: { allowPrivate: true, schedule: [1000, 2000], random: () => 0.5, timeoutMs: 2000 },
    });
    r.received.length = 0;
    r.answers.length = 0;
  });
  afterEach(() => h.cleanup());

  const drain = async () => {
    while ((await h.services.dispatcher.runOnce()) > 0);
  };

  /** What /metrics says of webhooks: attempts by outcome and the outbox backlog. */
  const scrape = async () => {
    const res = await h.call(null, 'GET', '/metrics');
    expect(res.statusCode).toBe(200);
    const m = new Scrape(res.body);
    const outcome = (o: string) => m.value('tasklane_webhook_deliveries_total', { outcome: o });
    return {
      delivered: outcome('delivered'),
      retried: outcome('retried'),
      failed: outcome('failed'),
      backlog: m.value('tasklane_webhook_outbox_backlog'),
    };
  };

  const createHook = async (key: string, body: Record<string, unknown> = {}) => {
    const res = await h.call(key, 'POST', '/v1/webhooks', { url: r.url, events: ['task.created'], ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; secret: string; enabled: boolean }>();
  };

  it('signs each delivery as Standard Webhooks says; the body is the event as the stream sends it', async () => {
    const hook = await createHook(h.a.admin, { events: ['task.created', 'task.status_changed'] });
    expect(hook.secret).toMatch(/^whsec_/);
    const t = await h.createTask(h.a.admin, { type: 'signed' });
    await drain();
    expect(r.received).toHaveLength(1);
    const [got] = r.received;
    const event = new Webhook(hook.secret).verify(got!.body, got!.headers) as Record<string, unknown>;
    const page = await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/events`, undefined, { accept: 'application/json' });
    expect(event).toEqual(page.json<{ items: unknown[] }>().items[0]);
    expect(got!.headers['content-type']).toBe('application/json');
    const listed = await h.call(h.a.admin, 'GET', '/v1/webhooks');
    expect(JSON.stringify(listed.json())).not.toContain('whsec_');
  });

  it('retries a 500 with the same webhook-id, then records both attempts', async () => {
    const hook = await createHook(h.a.admin);
    r.answers.push(500);
    await h.createTask(h.a.admin, { type: 'retried' });
    expect(await scrape()).toEqual({ delivered: 0, retried: 0, failed: 0, backlog: 1 });
    await drain();
    expect(r.received).toHaveLength(1);
    expect(await scrape()).toEqual({ delivered: 0, retried: 1, failed: 0, backlog: 1 });
    h.manualClock!.advance(1500);
    await drain();
    expect(r.received).toHaveLength(2);
    expect(await scrape()).toEqual({ delivered: 1, retried: 1, failed: 0, backlog: 0 });
    expect(r.received[1]!.headers['webhook-id']).toBe(r.received[0]!.headers['webhook-id']);
    const page = (await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).json<{
      items: Array<{ status: string; attempts: Array<{ httpStatus: number }> }>;
    }>();
    expect(page.items[0]!.status).toBe('delivered');
    expect(page.items[0]!.attempts.map((a) => a.httpStatus)).toEqual([500, 200]);
  });

  it('fails a delivery when the schedule is exhausted; a 3xx is a failure; retry queues it again', async () => {
    const hook = await createHook(h.a.admin);
    r.answers.push(302, 500, 500);
    await h.createTask(h.a.admin, { type: 'failing' });
    for (let i = 0; i < 3; i++) {
      await drain();
      h.manualClock!.advance(3000);
    }
    const page = (await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).json<{
      items: Array<{ id: string; status: string; attempts: unknown[] }>;
    }>();
    expect(page.items[0]!.status).toBe('failed');
    expect(page.items[0]!.attempts).toHaveLength(3);
    const retried = await h.call(h.a.admin, 'POST', `/v1/webhooks/${hook.id}/deliveries/${page.items[0]!.id}/retry`);
    expect(retried.statusCode).toBe(202);
    await drain();
    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
  });

  it('gives back an attempt cut by a shutdown: claimable at once, same id, no attempt recorded', async () => {
    const hook = await createHook(h.a.admin);
    r.answers.push('hold');
    await h.createTask(h.a.admin, { type: 'cut' });
    const pass = h.services.dispatcher.runOnce();
    await until(() => r.received.length === 1, 'the held request');
    await h.services.dispatcher.stop();
    await pass;
    const [listed] = (await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).json<{
      items: Array<{ id: string; status: string; attempts: unknown[] }>;
    }>().items;
    expect(listed).toMatchObject({ id: r.received[0]!.headers['webhook-id'], status: 'pending', attempts: [] });
    // Without the release its 30 s lease would hold it; the clock has not moved.
    const again = await h.store.webhooks.claimDeliveries(10, 30_000);
    expect(again.map((d) => d.id)).toEqual([listed!.id]);
  });

  it('signs with both secrets for 24 h after a rotation', async () => {
    const hook = await createHook(h.a.admin);
    const rotated = await h.call(h.a.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { rotateSecret: true });
    const fresh = rotated.json<{ secret: string }>().secret;
    expect(fresh).not.toBe(hook.secret);
    await h.createTask(h.a.admin, { type: 'rotated' });
    await drain();
    const [got] = r.received;
    expect(() => new Webhook(hook.secret).verify(got!.body, got!.headers)).not.toThrow();
    expect(() => new Webhook(fresh).verify(got!.body, got!.headers)).not.toThrow();
  });

  it("sends a task's callback for its terminal status change, signed with the org's callback secret", async () => {
    const t = await h.createTask(h.a.admin, { type: 'cb', callbackUrl: r.url });
    const claimed = await h.call(h.a.admin, 'POST', `/v1/tasks/${t.id}/claim`, { workerId: 'w' });
    const leaseId = claimed.json<{ lease: { id: string } }>().lease.id;
    await h.call(h.a.admin, 'POST', `/v1/tasks/${t.id}/complete`, { leaseId, result: { ok: 1 } });
    await drain();
    expect(r.received).toHaveLength(1);
    const secret = (await h.call(h.a.admin, 'GET', '/v1/webhooks/callback-secret')).json<{ secret: string }>().secret;
    const event = new Webhook(secret).verify(r.received[0]!.body, r.received[0]!.headers) as {
      type: string;
      data: { to: string };
    };
    expect(event.type).toBe('task.status_changed');
    expect(event.data.to).toBe('completed');
    const mine = (await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/deliveries`)).json<{
      items: Array<{ webhookId: string | null }>;
    }>();
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]!.webhookId).toBeNull();
    const bad = await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', callbackEvents: ['task.created'] });
    expect(bad.statusCode).toBe(400);
  });

  it("retries a task's failed callback by the task route (same webhook-id); by identifier too; other orgs get 404", async () => {
    await h.call(h.a.admin, 'POST', '/v1/projects', { key: 'CB', name: 'Callbacks' });
    const t = await h.createTask(h.a.admin, {
      type: 'cb-retry',
      projectId: 'CB',
      callbackUrl: r.url,
      callbackEvents: ['task.created'],
    });
    expect(t.identifier).toBe('CB-1');
    r.answers.push(500, 500, 500);
    for (let i = 0; i < 3; i++) {
      await drain();
      h.manualClock!.advance(3000);
    }
    type Listed = { id: string; webhookId: string | null; status: string; attempts: unknown[] };
    // The identifier names the task on the list route as on every /v1/tasks/{taskId} route.
    const byRef = (await h.call(h.a.admin, 'GET', `/v1/tasks/${t.identifier}/deliveries`)).json<{ items: Listed[] }>();
    const [failed] = byRef.items;
    expect(failed).toMatchObject({ webhookId: null, status: 'failed' });
    expect(failed!.attempts).toHaveLength(3);
    expect((await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/deliveries`)).json()).toEqual(byRef);
    expect((await h.call(h.a.admin, 'GET', '/v1/tasks/CB-99/deliveries')).statusCode).toBe(404);

    // Not this task's delivery, another org's key, an unknown delivery: the same 404.
    const other = await h.createTask(h.a.admin, { type: 'cb-retry' });
    const retryUrl = (task: string, delivery: string) => `/v1/tasks/${task}/deliveries/${delivery}/retry`;
    for (const [key, url] of [
      [h.b.admin, retryUrl(t.id, failed!.id)],
      [h.a.admin, retryUrl(other.id, failed!.id)],
      [h.a.admin, retryUrl(t.id, 'msg_unknown')],
      [h.a.admin, retryUrl('CB-99', failed!.id)],
    ] as const) {
      const res = await h.call(key, 'POST', url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json<{ code: string }>().code).toBe('NOT_FOUND');
    }
    // The endpoints' route cannot name a callback's delivery: it has no endpoint.
    expect((await h.call(h.a.admin, 'POST', `/v1/webhooks/wh_none/deliveries/${failed!.id}/retry`)).statusCode).toBe(
      404,
    );
    await drain();
    expect(r.received).toHaveLength(3);

    const retried = await h.call(h.a.admin, 'POST', retryUrl(t.identifier!, failed!.id));
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json<Listed>()).toMatchObject({ id: failed!.id, webhookId: null, status: 'pending' });
    await drain();
    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([failed!.id]));
    const secret = (await h.call(h.a.admin, 'GET', '/v1/webhooks/callback-secret')).json<{ secret: string }>().secret;
    expect(new Webhook(secret).verify(r.received[3]!.body, r.received[3]!.headers)).toMatchObject({ taskId: t.id });
    const [after] = (await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/deliveries`)).json<{ items: Listed[] }>().items;
    expect(after).toMatchObject({ id: failed!.id, status: 'delivered' });
    expect(after!.attempts).toHaveLength(4);
  });

  it("keeps a deleted task's deliveries listed and retryable under its UUID", async () => {
    await createHook(h.a.admin, { events: ['task.deleted'] });
    const t = await h.createTask(h.a.admin, { type: 'gone' });
    await h.call(h.a.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
    expect((await h.call(h.a.admin, 'DELETE', `/v1/tasks/${t.id}`)).statusCode).toBe(204);
    await drain();
    expect(r.received).toHaveLength(1);
    const listed = await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id.toUpperCase()}/deliveries`);
    const [d] = listed.json<{ items: Array<{ id: string; eventType: string }> }>().items;
    expect(d).toMatchObject({ id: r.received[0]!.headers['webhook-id'], eventType: 'task.deleted' });
    const retried = await h.call(h.a.admin, 'POST', `/v1/tasks/${t.id}/deliveries/${d!.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(202);
    await drain();
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([d!.id, d!.id]);
  });

  it('pages deliveries newest first', async () => {
    const hook = await createHook(h.a.admin);
    for (let i = 0; i < 5; i++) await h.createTask(h.a.admin, { type: 'paged' });
    await drain();
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const q: string = after === null ? '' : `&after=${after}`;
      const page = (await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}/deliveries?limit=2${q}`)).json<{
        items: Array<{ id: string; eventId: number }>;
        nextAfter: string | null;
      }>();
      ids.push(...page.items.map((d) => d.id));
      after = page.nextAfter;
    } while (after !== null);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
  });

  it('disables an endpoint that failed everything for 5 days; enabling it clears the reason', async () => {
    const hook = await createHook(h.a.admin);
    r.answers.push(...Array<number>(10).fill(500));
    await h.createTask(h.a.admin, { type: 'dead' });
    await drain();
    h.manualClock!.advance(5 * 24 * 3600_000);
    await h.createTask(h.a.admin, { type: 'dead' });
    await drain();
    const got = (await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}`)).json<{
      enabled: boolean;
      disabledReason: string | null;
    }>();
    expect(got.enabled).toBe(false);
    expect(got.disabledReason).toMatch(/5 days/);
    const on = await h.call(h.a.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { enabled: true });
    expect(on.json<{ enabled: boolean; disabledReason: null }>()).toMatchObject({
      enabled: true,
      disabledReason: null,
    });
  });

  it("holds a disabled endpoint's pending deliveries, nothing spent, and sends them once it is enabled", async () => {
    const hook = await createHook(h.a.admin);
    r.answers.push(500);
    const t = await h.createTask(h.a.admin, { type: 'held' });
    await drain();
    expect(r.received).toHaveLength(1);
    const off = await h.call(h.a.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { enabled: false });
    expect(off.statusCode).toBe(200);
    h.manualClock!.advance(3000); // its retry is due, and waits
    expect(await h.services.dispatcher.runOnce()).toBe(0);
    const held = (await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/deliveries`)).json<{
      items: Array<{ status: string; attempts: unknown[] }>;
    }>();
    expect(held.items.map((d) => [d.status, d.attempts.length])).toEqual([['pending', 1]]);

    await h.call(h.a.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { enabled: true });
    await drain();
    expect(r.received.map((x) => x.answer)).toEqual([500, 200]);
    const sent = (await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}/deliveries`)).json<{
      items: Array<{ status: string; attempts: Array<{ httpStatus: number | null }> }>;
    }>();
    expect(sent.items[0]).toMatchObject({ status: 'delivered', attempts: [{ httpStatus: 500 }, { httpStatus: 200 }] });
  });

  it('a retry asked while an attempt is in flight leaves its claim: never two sends at once, its outcome kept', async () => {
    await createHook(h.a.admin);
    await h.createTask(h.a.admin, { type: 'in-flight' });
    const store = h.services.store.webhooks;
    const [inFlight] = await store.claimDeliveries(10, 30_000);
    expect(inFlight).toBeDefined();
    const retried = await h.call(
      h.a.admin,
      'POST',
      `/v1/webhooks/${inFlight!.webhookId}/deliveries/${inFlight!.id}/retry`,
    );
    expect(retried.statusCode).toBe(202);
    expect(await store.claimDeliveries(10, 30_000)).toEqual([]);
    const recorded = await store.finishAttempt(inFlight!, {
      attempt: { at: inFlight!.claimedAt, httpStatus: 200, durationMs: 5, error: null },
      outcome: 'delivered',
      url: inFlight!.url,
      disableAfterMs: 5 * 24 * 3600_000,
      disableReason: 'x',
    });
    expect(recorded).toBe(true);
    // Once the lease is gone (ended, or given back), a retry queues it again at once.
    h.manualClock!.advance(31_000);
    expect(
      (await h.call(h.a.admin, 'POST', `/v1/webhooks/${inFlight!.webhookId}/deliveries/${inFlight!.id}/retry`))
        .statusCode,
    ).toBe(202);
    expect((await store.claimDeliveries(10, 30_000)).map((d) => d.id)).toEqual([inFlight!.id]);
  });

  it('a PATCH keeps a change made between its read and its write (the endpoint disabled meanwhile)', async () => {
    const hook = await createHook(h.a.admin);
    const outbox = h.services.store.webhooks;
    const original = outbox.getEndpoint;
    let raced = false;
    // The dispatcher disables the endpoint right after the PATCH read it.
    outbox.getEndpoint = async (orgId, id) => {
      const e = await original.call(outbox, orgId, id);
      if (!raced && e !== null) {
        raced = true;
        const disabled = { ...e, enabled: false, disabledReason: 'Every attempt failed for 5 days.' };
        expect(await outbox.updateEndpoint(disabled, e)).toBe(true);
      }
      return e;
    };
    try {
      const res = await h.call(h.a.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { description: 'renamed' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ description: 'renamed', enabled: false, disabledReason: /5 days/ });
    } finally {
      outbox.getEndpoint = original;
    }
    expect((await h.call(h.a.admin, 'GET', `/v1/webhooks/${hook.id}`)).json()).toMatchObject({
      description: 'renamed',
      enabled: false,
    });
  });

  it('keeps orgs apart and needs the admin scope', async () => {
    const hook = await createHook(h.a.admin);
    expect((await h.call(h.b.admin, 'GET', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect((await h.call(h.b.admin, 'GET', '/v1/webhooks')).json<{ items: unknown[] }>().items).toEqual([]);
    await h.createTask(h.b.admin, { type: 'other-org' });
    await drain();
    expect(r.received).toHaveLength(0);
    expect((await h.call(h.b.admin, 'DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect((await h.call(h.a.admin, 'DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(204);
    const bad = await h.call(h.a.admin, 'POST', '/v1/webhooks', { url: r.url, events: [] });
    expect(bad.statusCode).toBe(400);
    const scheme = await h.call(h.a.admin, 'POST', '/v1/webhooks', {
      url: 'ftp://example.com/',
      events: ['task.created'],
    });
    expect(scheme.statusCode).toBe(400);
    expect(scheme.json<{ code: string }>().code).toBe('URL_NOT_ALLOWED');
  });
});
