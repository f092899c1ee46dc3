/**
 * The webhooks parts of the dashboard in a real browser (Debian's Chromium, playwright-core)
 * against the built server (`tasklane serve`, TASKLANE_WEBHOOK_ALLOW_PRIVATE=1) and a local
 * receiver on 127.0.0.1: an endpoint made in the page (its secret shown once), a task change
 * delivered, the delivery and its attempts on the webhooks page and the task's page, Retry, disable,
 * delete after a confirmation; the axe-core check; a read-only key sees none of it. As in
 * browser.test.ts: no console error, no request leaving 127.0.0.1, no native dialog.
 */
import { TasklaneClient, verifyWebhook, type Task } from '@tasklane/sdk';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startTestServer } from '../scripts/test-server.mjs';
import { browserSuite, launchChromium } from './chromium.js';
import { startReceiver, type Receiver } from '../../server/test/webhooks/receiver.js';

/** Deliveries are sent on commit; a page that re-reads while one is pending shows it within this. */
const SHOWN_MS = 10_000;

interface Server {
  url: string;
  rootKey: string;
  stop: () => Promise<void>;
}

browserSuite('Dashboard webhooks browser tests', webhooksSuite);

function webhooksSuite() {
  let server: Server;
  let receiver: Receiver;
  let browser: Browser;
  let root: TasklaneClient;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];
  let requests: string[];
  let dialogs: string[];

  beforeAll(async () => {
    server = (await startTestServer({ env: { TASKLANE_WEBHOOK_ALLOW_PRIVATE: '1' } })) as Server;
    root = new TasklaneClient({ url: server.url, key: server.rootKey });
    receiver = await startReceiver();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    for (const h of await root.webhooks.list()) await root.webhooks.delete(h.id);
    receiver.received.length = 0;
    receiver.answers.length = 0;
    receiver.refused.clear();
    context = await browser.newContext({
      colorScheme: 'light',
      viewport: { width: 1360, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
    consoleErrors = [];
    requests = [];
    dialogs = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterEach(async () => {
    await context.close();
    expect(consoleErrors, 'console errors').toEqual([]);
    for (const u of requests) expect(new URL(u.startsWith('data:') ? server.url : u).hostname).toBe('127.0.0.1');
    expect(dialogs, 'alert/confirm/prompt dialogs').toEqual([]);
  });

  async function signIn(key: string, path = '/'): Promise<void> {
    await page.goto(`${server.url}${path}`);
    const field = page.getByLabel('API key');
    await field.fill(key);
    await field.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  /** What the receiver got for `task`, once it has `n` requests for it. */
  async function receivedFor(task: Task, n: number) {
    const of = () => receiver.received.filter((r) => r.body.includes(task.id));
    // At least: a refused delivery's next attempt (5 s later) may have come too.
    await expect.poll(() => of().length, { timeout: SHOWN_MS }).toBeGreaterThanOrEqual(n);
    return of();
  }

  /** Registers `receiver.url` for `task.created` through the page; answers the secret it showed. */
  async function createInPage(): Promise<string> {
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('task.created').check();
    await page.getByLabel('Task types (optional, comma-separated)').fill('hooked.ui');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = (await page.locator('.card-secret .secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    return secret;
  }

  it('makes an endpoint in the page; a new task is delivered, shows with its attempt, and Retry sends it again', async () => {
    await signIn(server.rootKey);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhook endpoints yet.').waitFor();

    const secret = await createInPage();
    await page.getByRole('button', { name: "Copy the webhook's signing secret" }).click();
    await page.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const card = page.locator('li.webhook');
    await card.getByRole('heading', { name: receiver.url }).waitFor();
    await card.getByText('task.created', { exact: true }).waitFor();
    await card.getByText('hooked.ui').waitFor();
    // Shown once: gone when dismissed, and never listed.
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.getByText(secret).count()).toBe(0);
    await page.reload();
    await card.waitFor();
    expect(await page.content()).not.toContain(secret);

    const task = await root.tasks.create({ type: 'hooked.ui', title: 'Deliver me' });
    const [first] = await receivedFor(task, 1);
    expect(verifyWebhook(first?.body ?? '', first?.headers ?? {}, secret)).toMatchObject({
      type: 'task.created',
      taskId: task.id,
    });
    const deliveryId = first?.headers['webhook-id'] ?? '';

    await card.getByRole('button', { name: 'Show deliveries' }).click();
    expect(await card.getByRole('button', { name: 'Hide deliveries' }).getAttribute('aria-expanded')).toBe('true');
    const item = card.locator(`li.delivery[data-delivery-id="${deliveryId}"]`);
    await item.getByText('Delivered').waitFor({ timeout: SHOWN_MS });
    await item.getByRole('link', { name: task.id }).waitFor();
    await item.getByText('1 attempt').waitFor();
    await item.getByText('Attempts').click(); // a delivered one's attempts start folded
    await item.getByText('HTTP 200').waitFor();

    // Refused from now on: the retry fails, and so does the schedule's next attempt 5 s later (the one
    // after is minutes away), so the delivery stays pending with 2 or 3 attempts whatever the timing.
    receiver.refused.add(deliveryId);
    await item.getByRole('button', { name: `Retry delivery ${deliveryId}` }).click();
    const both = await receivedFor(task, 2);
    expect(both.slice(0, 2).map((r) => r.headers['webhook-id'])).toEqual([deliveryId, deliveryId]);
    // Pending again and being retried: the page reads again until the attempt shows, error and all.
    await item.getByText(/\b[23] attempts\b/).waitFor({ timeout: SHOWN_MS });
    await item.getByText('HTTP 503').first().waitFor();
    await item.getByText('Pending').waitFor();
  });

  it("shows a task's deliveries on its page (endpoint and callback), Retry for both, and new ones as the task changes", async () => {
    await root.webhooks.create({ url: receiver.url, events: ['task.created', 'task.status_changed'] });
    const task = await root.tasks.create({
      type: 'hooked.task-page',
      title: 'Called back',
      callbackUrl: receiver.url,
      callbackEvents: ['task.created'],
    });
    const got = await receivedFor(task, 2);
    const listed = await root.tasks.deliveries(task.id);
    const endpointDelivery = listed.find((d) => d.webhookId !== null);
    const callbackDelivery = listed.find((d) => d.webhookId === null);

    await signIn(server.rootKey, `/tasks/${task.id}`);
    const section = page.getByRole('list', { name: 'Webhook deliveries of this task' });
    await expect
      .poll(() => section.locator('li.delivery[data-status="delivered"]').count(), { timeout: SHOWN_MS })
      .toBe(2);
    await section.getByText(`callback: ${receiver.url}`).waitFor();
    await section.getByText(receiver.url, { exact: true }).waitFor();
    // Both can be sent again through the task, the callback (which has no endpoint) too.
    expect(await section.getByRole('button', { name: /^Retry/ }).count()).toBe(2);
    await section.getByRole('button', { name: `Retry delivery ${endpointDelivery?.id}` }).click();
    await receivedFor(task, got.length + 1);
    const item = section.locator(`li.delivery[data-delivery-id="${endpointDelivery?.id}"]`);
    await item.getByText('2 attempts').waitFor({ timeout: SHOWN_MS });

    receiver.refused.add(callbackDelivery?.id ?? '');
    await section.getByRole('button', { name: `Retry delivery ${callbackDelivery?.id}` }).click();
    const again = await receivedFor(task, got.length + 2);
    expect(again.at(-1)?.headers['webhook-id']).toBe(callbackDelivery?.id);
    const secret = await root.webhooks.callbackSecret();
    expect(verifyWebhook(again.at(-1)?.body ?? '', again.at(-1)?.headers ?? {}, secret)).toMatchObject({
      type: 'task.created',
      taskId: task.id,
    });
    // Its failed attempt shows, and the delivery is pending again (retrying on its schedule).
    const callbackItem = section.locator(`li.delivery[data-delivery-id="${callbackDelivery?.id}"]`);
    await callbackItem.getByText(/\b[23] attempts\b/).waitFor({ timeout: SHOWN_MS });
    await callbackItem.getByText('HTTP 503').first().waitFor();
    await callbackItem.getByText('Pending').waitFor();

    // A change while the page is open: its delivery joins the list without a reload.
    await root.tasks.cancel(task.id);
    const changed = section.locator('li.delivery').filter({ hasText: 'task.status_changed' });
    await changed.getByText('Delivered').waitFor({ timeout: SHOWN_MS });
    expect(await section.locator('li.delivery').count()).toBe(3);
  });

  it('disables (by keyboard) and enables an endpoint, rotates its secret, shows its text as text, and deletes it only after a confirmation', async () => {
    const evil = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
    const hook = await root.webhooks.create({ url: receiver.url, events: ['task.deleted'], description: evil });
    await signIn(server.rootKey, '/webhooks');
    const card = page.locator('li.webhook');
    await card.getByText('Enabled', { exact: true }).waitFor();
    await card.getByText(evil, { exact: true }).waitFor();
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);
    await card.getByRole('button', { name: 'Disable' }).focus();
    await page.keyboard.press('Enter');
    await card.getByText('Disabled', { exact: true }).waitFor();
    expect((await root.webhooks.list())[0]?.enabled).toBe(false);
    await card.getByRole('button', { name: 'Enable' }).click();
    await card.getByText('Enabled', { exact: true }).waitFor();

    // Rotation asks first, then shows the new secret once: a delivery verifies with it.
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    await page
      .getByRole('dialog', { name: 'Rotate the signing secret?' })
      .getByRole('button', { name: 'Rotate secret' })
      .click();
    await page.getByRole('heading', { name: 'Signing secret rotated' }).waitFor();
    const rotated = (await page.locator('.card-secret .secret').textContent()) ?? '';
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(hook.secret);
    const task = await root.tasks.create({ type: 'hooked.rotated' });
    await root.tasks.cancel(task.id);
    await root.tasks.delete(task.id);
    const [got] = await receivedFor(task, 1);
    expect(verifyWebhook(got?.body ?? '', got?.headers ?? {}, rotated)).toMatchObject({ type: 'task.deleted' });
    expect(verifyWebhook(got?.body ?? '', got?.headers ?? {}, hook.secret)).toMatchObject({ type: 'task.deleted' });

    await card.getByRole('button', { name: /^Delete/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this webhook?' });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await root.webhooks.list()).toHaveLength(1);
    await card.getByRole('button', { name: /^Delete/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByText('No webhook endpoints yet.').waitFor();
    expect(await root.webhooks.list()).toEqual([]);
  });

  it('has no serious or critical accessibility violation (axe-core) on the webhooks page', async () => {
    const task = await root.tasks.create({ type: 'hooked.ui', title: 'For the audit' });
    await signIn(server.rootKey, '/webhooks');
    await createInPage();
    await root.tasks.update(task.id, { title: 'For the audit, changed' });
    await root.tasks.create({ type: 'hooked.ui', title: 'Delivered for the audit' });
    const card = page.locator('li.webhook');
    await card.getByRole('button', { name: 'Show deliveries' }).click();
    await card.locator('li.delivery').first().waitFor({ timeout: SHOWN_MS });
    await page.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: unknown[] }> } }).axe;
      const r = await axe.run({ resultTypes: ['violations'] });
      return (r.violations as Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>).map((v) => ({
        id: v.id,
        impact: v.impact,
        targets: v.nodes.slice(0, 3).map((n) => n.target),
      }));
    });
    expect(
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      JSON.stringify(violations),
    ).toEqual([]);
  });

  it('a key without admin sees no webhooks: no nav entry, no page, no deliveries on a task', async () => {
    await root.webhooks.create({ url: receiver.url, events: ['task.created'] });
    const task = await root.tasks.create({ type: 'hooked.ui', title: 'Seen read-only' });
    await receivedFor(task, 1);
    const ro = await root.keys.create({ name: 'webhooks viewer', scopes: ['tasks:read'] });
    await signIn(ro.secret, `/tasks/${task.id}`);
    await page.getByRole('heading', { name: 'Seen read-only', level: 1 }).waitFor();
    expect(await page.getByRole('heading', { name: 'Webhook deliveries' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await page.goto(`${server.url}/webhooks`);
    await page.getByText('Managing webhooks needs a key with the admin scope.').waitFor();
    expect(await page.getByRole('button', { name: 'Create webhook' }).count()).toBe(0);
    expect(requests.filter((u) => /\/v1\/(webhooks|tasks\/[^/]+\/deliveries)/.test(new URL(u).pathname))).toEqual([]);
  });
}
