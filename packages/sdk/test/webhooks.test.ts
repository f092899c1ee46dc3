/**
 * Webhooks in the SDK: `verifyWebhook` against signatures made by the `standardwebhooks` package
 * and against real deliveries, and `client.webhooks` / `client.tasks.deliveries` / `retryDelivery`
 * against a real server started in-process (SQLite in a temp folder, loopback receivers allowed).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { startReceiver, type Receiver } from '../../server/test/webhooks/receiver.js';
import { TasklaneApiError, TasklaneClient, TasklaneWebhookError, verifyWebhook, type TaskEvent } from '../src/index.js';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

const event: TaskEvent = {
  id: 42,
  type: 'task.created',
  taskId: '0b6f3c1e-7d1a-4f57-9a53-3f1c2a9d8e10',
  time: '2026-01-02T03:04:05.678Z',
  data: { status: 'queued', version: 1 },
};

/** Headers as a sender using the standardwebhooks package makes them, signed at `at`. */
function signed(secret: string, body: string, at = new Date()) {
  return {
    'webhook-id': 'msg_test1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign('msg_test1', at, body),
  };
}

function rejection(run: () => unknown): TasklaneWebhookError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(TasklaneWebhookError);
    return err as TasklaneWebhookError;
  }
  throw new Error('expected verifyWebhook to throw');
}

describe('verifyWebhook', () => {
  const secret = newSecret();
  const body = JSON.stringify(event);

  it('answers the event, typed, for a body signed with the secret; any header shape works', () => {
    const headers = signed(secret, body);
    const got = verifyWebhook(body, headers, secret);
    expect(got).toEqual(event);
    expect(got.type === 'task.created' && got.data.status).toBe('queued');
    expect(verifyWebhook(Buffer.from(body), new Headers(headers), secret)).toEqual(event);
    const shouted = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifyWebhook(body, shouted, secret)).toEqual(event);
  });

  it('accepts either of two signatures (a rotated secret signs beside the old one)', () => {
    const old = newSecret();
    const at = new Date();
    const headers = signed(secret, body, at);
    headers['webhook-signature'] = `${new Webhook(old).sign('msg_test1', at, body)} ${headers['webhook-signature']}`;
    expect(verifyWebhook(body, headers, secret)).toEqual(event);
    expect(verifyWebhook(body, headers, old)).toEqual(event);
  });

  it('throws TasklaneWebhookError for another secret, a changed body, a stale time or a missing header', () => {
    const headers = signed(secret, body);
    expect(rejection(() => verifyWebhook(body, headers, newSecret())).message).toMatch(/signature/);
    rejection(() => verifyWebhook(body.replace('42', '43'), headers, secret));
    const stale = signed(secret, body, new Date(Date.now() - 10 * 60_000));
    expect(rejection(() => verifyWebhook(body, stale, secret)).message).toMatch(/too old/i);
    const { 'webhook-id': _dropped, ...noId } = headers;
    expect(rejection(() => verifyWebhook(body, noId, secret)).message).toMatch(/headers/i);
  });

  it('throws a plain Error for a secret that is not one, before looking at the delivery', () => {
    const headers = signed(secret, body);
    const err = (() => {
      try {
        verifyWebhook(body, headers, 'whsec_');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TasklaneWebhookError);
  });

  it('throws for a correctly signed body that is not a task event', () => {
    const other = JSON.stringify({ hello: 'world' });
    expect(rejection(() => verifyWebhook(other, signed(secret, other), secret)).message).toMatch(/not a task event/);
  });
});

describe('client.webhooks against a real server', () => {
  let dir: string;
  let server: RunningServer;
  let receiver: Receiver;
  let admin: TasklaneClient;
  let reader: TasklaneClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-sdk-hooks-'));
    server = await startServer(
      loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0', webhookAllowPrivate: 'true' }),
    );
    if (server.rootKey === null) throw new Error('the first start should create a root key');
    const root = new TasklaneClient({ url: server.url, key: server.rootKey });
    const { adminKey } = await root.orgs.create({ id: 'sdk-hooks', name: 'SDK webhooks' });
    admin = new TasklaneClient({ url: server.url, key: adminKey.secret });
    const readKey = await admin.keys.create({ name: 'reader', scopes: ['tasks:read', 'tasks:write'] });
    reader = new TasklaneClient({ url: server.url, key: readKey.secret });
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    for (const h of await admin.webhooks.list()) await admin.webhooks.delete(h.id);
    receiver.received.length = 0;
  });

  /** The requests the receiver got for `taskId`, once there are `n` of them. */
  async function receivedFor(taskId: string, n: number) {
    const of = () => receiver.received.filter((r) => r.body.includes(taskId));
    await expect.poll(() => of().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(n);
    return of();
  }

  it('creates, lists, gets, changes and deletes an endpoint; the secret comes only at create and rotation', async () => {
    const hook = await admin.webhooks.create({
      url: receiver.url,
      events: ['task.created', 'task.status_changed'],
      taskTypes: ['report.build'],
      description: 'reports',
    });
    expect(hook.secret).toMatch(/^whsec_/);
    expect(hook).toMatchObject({ enabled: true, disabledReason: null, listId: null, taskTypes: ['report.build'] });

    const listed = await admin.webhooks.list();
    expect(listed.map((h) => h.id)).toEqual([hook.id]);
    expect(listed[0]).not.toHaveProperty('secret');
    expect(await admin.webhooks.get(hook.id)).not.toHaveProperty('secret');

    const off = await admin.webhooks.update(hook.id, { enabled: false, description: null });
    expect(off).toMatchObject({ enabled: false, description: null });
    expect(off.secret).toBeUndefined();
    const rotated = await admin.webhooks.update(hook.id, { rotateSecret: true });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);

    await admin.webhooks.delete(hook.id);
    const gone = await admin.webhooks.get(hook.id).then(
      () => null,
      (e: unknown) => e,
    );
    expect(gone).toBeInstanceOf(TasklaneApiError);
    expect((gone as TasklaneApiError).code).toBe('NOT_FOUND');
  });

  it('a real delivery verifies with verifyWebhook; deliveries, the task deliveries and retryDelivery', async () => {
    const hook = await admin.webhooks.create({ url: receiver.url, events: ['task.created'] });
    const task = await admin.tasks.create({ type: 'sdk.hook', title: 'delivered' });
    const [got] = await receivedFor(task.id, 1);
    if (got === undefined) throw new Error('no delivery');
    const ev = verifyWebhook(got.body, got.headers, hook.secret);
    expect(ev).toMatchObject({ type: 'task.created', taskId: task.id });
    expect(() => verifyWebhook(got.body, got.headers, newSecret())).toThrow(TasklaneWebhookError);

    await expect
      .poll(async () => (await admin.webhooks.deliveries(hook.id)).items[0]?.status, { timeout: 10_000 })
      .toBe('delivered');
    const page = await admin.webhooks.deliveries(hook.id, { limit: 1 });
    const [delivery] = page.items;
    expect(delivery).toMatchObject({
      id: got.headers['webhook-id'],
      webhookId: hook.id,
      eventType: 'task.created',
      taskId: task.id,
      eventId: ev.id,
    });
    expect(delivery?.attempts).toEqual([expect.objectContaining({ httpStatus: 200, error: null })]);
    expect((await admin.tasks.deliveries(task.id)).map((d) => d.id)).toEqual([delivery?.id]);

    const again = await admin.webhooks.retryDelivery(hook.id, delivery?.id ?? '');
    expect(again).toMatchObject({ id: delivery?.id, status: 'pending' });
    const both = await receivedFor(task.id, 2);
    expect(both.map((r) => r.headers['webhook-id'])).toEqual([delivery?.id, delivery?.id]);
  });

  it("signs a task's callback with the org's callback secret", async () => {
    const secret = await admin.webhooks.callbackSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(await admin.webhooks.callbackSecret()).toBe(secret);
    const task = await admin.tasks.create({
      type: 'sdk.callback',
      callbackUrl: receiver.url,
      callbackEvents: ['task.created'],
    });
    const [got] = await receivedFor(task.id, 1);
    if (got === undefined) throw new Error('no callback');
    expect(verifyWebhook(got.body, got.headers, secret)).toMatchObject({ type: 'task.created', taskId: task.id });
    const [d] = await admin.tasks.deliveries(task.id);
    expect(d).toMatchObject({ webhookId: null, url: receiver.url });

    // A callback has no endpoint: it is sent again through its task, with the same webhook-id.
    await expect
      .poll(async () => (await admin.tasks.deliveries(task.id))[0]?.status, { timeout: 10_000 })
      .toBe('delivered');
    const again = await admin.tasks.retryDelivery(task.id, d?.id ?? '');
    expect(again).toMatchObject({ id: d?.id, webhookId: null, status: 'pending' });
    const both = await receivedFor(task.id, 2);
    expect(both.map((r) => r.headers['webhook-id'])).toEqual([d?.id, d?.id]);
    expect(verifyWebhook(both[1]?.body ?? '', both[1]?.headers ?? {}, secret)).toMatchObject({ taskId: task.id });
    const other = await admin.tasks.create({ type: 'sdk.callback' });
    const wrong = await admin.tasks.retryDelivery(other.id, d?.id ?? '').then(
      () => null,
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(TasklaneApiError);
    expect((wrong as TasklaneApiError).code).toBe('NOT_FOUND');
  });

  it('refuses a key without admin (403), and an unknown endpoint (404)', async () => {
    const denied = await reader.webhooks.list().then(
      () => null,
      (e: unknown) => e,
    );
    expect(denied).toBeInstanceOf(TasklaneApiError);
    expect((denied as TasklaneApiError).status).toBe(403);
    const missing = await admin.webhooks.deliveries('wh_nope').then(
      () => null,
      (e: unknown) => e,
    );
    expect((missing as TasklaneApiError).status).toBe(404);
  });
});
