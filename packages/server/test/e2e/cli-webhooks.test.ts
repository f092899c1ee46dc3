/**
 * `tasklane webhooks …` as child processes against a real `tasklane serve` process (SQLite in a
 * temp folder, TASKLANE_WEBHOOK_ALLOW_PRIVATE=1) and a local receiver: create prints the secret
 * once, a task change is delivered and shows in `deliveries`, `retry` sends it again with the same
 * webhook-id, `delete`; usage errors exit 2, API errors 1.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TasklaneClient, verifyWebhook, type Webhook, type WebhookDeliveryPage } from '@tasklane/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';
import { MAIN, serve, stopAll, tasklane as run, type Served } from './serve-process.js';

let dir: string;
let server: Served;
let receiver: Receiver;
let admin: TasklaneClient;
let adminKey: string;

const tasklane = (args: string[], env: Record<string, string> = {}) =>
  run(['webhooks', ...args], { TASKLANE_URL: server.url, TASKLANE_KEY: adminKey, ...env });

async function json<T>(args: string[]): Promise<T> {
  const r = await tasklane([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`build first: no ${MAIN}`);
  dir = mkdtempSync(join(tmpdir(), 'tasklane-cli-hooks-'));
  const rootKey = `tl_${randomBytes(24).toString('hex')}`;
  server = await serve(['--port', '0', '--data-dir', dir], {
    TASKLANE_ROOT_KEY: rootKey,
    TASKLANE_WEBHOOK_ALLOW_PRIVATE: '1',
    TASKLANE_RATE_LIMIT: '0',
  });
  const root = new TasklaneClient({ url: server.url, key: rootKey });
  adminKey = (await root.orgs.create({ id: 'cli-hooks', name: 'CLI webhooks' })).adminKey.secret;
  admin = new TasklaneClient({ url: server.url, key: adminKey });
  receiver = await startReceiver();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  stopAll();
  await receiver?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('tasklane webhooks', () => {
  it('the server warns at start that private addresses are allowed', () => {
    expect(server.out()).toContain('TASKLANE_WEBHOOK_ALLOW_PRIVATE is on');
  });

  it('create prints the secret once; list shows the endpoint without it', async () => {
    const r = await tasklane([
      'create',
      receiver.url,
      '--event',
      'task.created',
      '--event',
      'task.status_changed',
      '--task-type',
      'cli.hooked',
      '--description',
      'from the CLI',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const secret = /^\s+(whsec_\S+)$/m.exec(r.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(r.stdout).toMatch(
      /^Created webhook \S+ for http:\/\/127\.0\.0\.1:\d+\/hook \(events task\.created, task\.status_changed\)/,
    );
    expect(r.stdout).toContain('shown this once');

    const listed = await tasklane(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+STATE\s+EVENTS\s+FILTERS\s+URL$/m);
    expect(listed.stdout).toContain('type=cli.hooked');
    expect(listed.stdout).not.toContain('whsec_');
    const hooks = await json<Webhook[]>(['list']);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ taskTypes: ['cli.hooked'], description: 'from the CLI', enabled: true });
    await tasklane(['delete', hooks[0]?.id ?? '']);
  });

  it('a task change is delivered; deliveries lists it; retry sends it again with the same webhook-id; delete', async () => {
    const hook = await json<Webhook & { secret: string }>([
      'create',
      receiver.url,
      '--event',
      'task.created',
      '--url',
      server.url,
    ]);
    const task = await admin.tasks.create({ type: 'cli.hooked', title: 'deliver me' });
    const mine = () => receiver.received.filter((x) => x.body.includes(task.id));
    await expect.poll(() => mine().length, { timeout: 10_000 }).toBe(1);
    const [first] = mine();
    expect(verifyWebhook(first?.body ?? '', first?.headers ?? {}, hook.secret)).toMatchObject({ taskId: task.id });

    let page: WebhookDeliveryPage | undefined;
    await expect
      .poll(
        async () => {
          page = await json<WebhookDeliveryPage>(['deliveries', hook.id]);
          return page.items[0]?.status;
        },
        { timeout: 10_000 },
      )
      .toBe('delivered');
    const delivery = page?.items[0];
    expect(delivery?.id).toBe(first?.headers['webhook-id']);
    const table = await tasklane(['deliveries', hook.id]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^DELIVERY\s+STATUS\s+EVENT\s+TASK\s+TRIES\s+NEXT\s+LAST ATTEMPT$/m);
    expect(table.stdout).toMatch(
      new RegExp(
        `^${delivery?.id}\\s+delivered\\s+task\\.created #\\d+\\s+${task.id}\\s+1\\s+-\\s+.*200, \\d+ ms$`,
        'm',
      ),
    );

    const retried = await tasklane(['retry', hook.id, delivery?.id ?? '']);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toBe(`Delivery ${delivery?.id} (task.created of task ${task.id}) queued again.\n`);
    await expect.poll(() => mine().length, { timeout: 10_000 }).toBe(2);
    expect(mine().map((x) => x.headers['webhook-id'])).toEqual([delivery?.id, delivery?.id]);

    const deleted = await tasklane(['delete', hook.id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted webhook ${hook.id}.\n` });
    expect(await tasklane(['list'])).toMatchObject({ code: 0, stdout: 'No webhooks.\n' });
  });

  it("retry --task sends a task's callback again (it has no endpoint), by the task's id", async () => {
    const task = await admin.tasks.create({
      type: 'cli.called-back',
      callbackUrl: receiver.url,
      callbackEvents: ['task.created'],
    });
    const mine = () => receiver.received.filter((x) => x.body.includes(task.id));
    await expect.poll(() => mine().length, { timeout: 10_000 }).toBe(1);
    const id = mine()[0]?.headers['webhook-id'] ?? '';
    await expect
      .poll(async () => (await admin.tasks.deliveries(task.id)).find((d) => d.id === id)?.status, { timeout: 10_000 })
      .toBe('delivered');

    const retried = await tasklane(['retry', '--task', task.id, id]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toBe(`Delivery ${id} (task.created of task ${task.id}) queued again.\n`);
    await expect.poll(() => mine().length, { timeout: 10_000 }).toBe(2);
    expect(mine().map((x) => x.headers['webhook-id'])).toEqual([id, id]);
    const extra = await tasklane(['retry', '--task', task.id, 'wh_x', id]);
    expect(extra.code).toBe(2);
  });

  it('usage errors exit 2, API errors exit 1 with the code', async () => {
    const noEvent = await tasklane(['create', receiver.url]);
    expect(noEvent.code).toBe(2);
    expect(noEvent.stderr).toContain('give at least one --event');
    const noEndpoint = await tasklane(['create', '--event', 'task.created']);
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toContain('give the endpoint URL');
    const badEvent = await tasklane(['create', receiver.url, '--event', 'task.exploded']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toContain('--event must be one of');
    const missing = await tasklane(['retry', 'only-one']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give ID DELIVERY_ID');
    const notFound = await tasklane(['deliveries', 'wh_missing']);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/^tasklane: NOT_FOUND: /);
    const scheme = await tasklane(['create', 'ftp://example.com/', '--event', 'task.created']);
    expect(scheme.code).toBe(1);
    expect(scheme.stderr).toMatch(/^tasklane: (URL_NOT_ALLOWED|VALIDATION_FAILED): /);
  });
});
