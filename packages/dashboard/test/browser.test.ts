/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against a real
 * server on a free port of 127.0.0.1 with realistic tasks: sign in, the list, a task's page, acting
 * on tasks, a read-only key, hostile text in every field, accessibility (axe-core), and, for every
 * test, no console error and no request leaving 127.0.0.1. Live updates are tested against the
 * server's own event streams (a worker's calls show on the page without a reload), and, for drops and
 * resumes the server cannot be made to produce on cue, against frames the test serves.
 */
import { TasklaneClient, type Task } from '@tasklane/sdk';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { seed } from '../scripts/seed.mjs';
import { startTestServer } from '../scripts/test-server.mjs';
import { browserSuite, launchChromium } from './chromium.js';

interface Server {
  url: string;
  rootKey: string;
  stop: () => Promise<void>;
}

/** A change the page must show live: from the API call that makes it to the page, at most this long. */
const LIVE_MS = 2000;

browserSuite('Dashboard browser tests', dashboardSuite);

function dashboardSuite() {
  let server: Server;
  let browser: Browser;
  let root: TasklaneClient;
  let ids: { featured: string; review: string; failed: string };
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];
  let requests: string[];
  let dialogs: string[];
  /** Console errors a test expects (the browser logs a 401 it was asked to provoke). */
  let expectedErrors: RegExp[];

  beforeAll(async () => {
    server = (await startTestServer()) as Server;
    root = new TasklaneClient({ url: server.url, key: server.rootKey });
    ids = await seed(server.url, server.rootKey);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    context = await browser.newContext({ colorScheme: 'light', viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
    consoleErrors = [];
    requests = [];
    dialogs = [];
    expectedErrors = [];
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
    const unexpected = consoleErrors.filter((e) => !expectedErrors.some((re) => re.test(e)));
    expect(unexpected, 'console errors').toEqual([]);
    const origin = new URL(server.url).origin;
    expect(
      requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:')),
      'requests that left the server',
    ).toEqual([]);
    for (const u of requests) expect(new URL(u.startsWith('data:') ? origin : u).hostname).toBe('127.0.0.1');
    expect(dialogs, 'alert/confirm/prompt dialogs').toEqual([]);
  });

  async function signIn(key: string, path = '/'): Promise<void> {
    await page.goto(`${server.url}${path}`);
    const field = page.getByLabel('API key');
    await field.fill(key);
    await field.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  const badge = (p: Page) => p.locator('.task-head .badge');
  const rowOf = (p: Page, id: string) => p.locator(`tr[data-task-id="${id}"]`);
  const liveStatus = (p: Page) => p.getByRole('status').filter({ hasText: /^Live$/ });

  /**
   * Makes a change through the API and waits until the page shows it, LIVE_MS at most from the call
   * (not from its answer): the time a change takes to reach the page, round trips included.
   */
  async function shownLive(change: () => Promise<unknown>, shown: Locator): Promise<void> {
    const start = performance.now();
    await change();
    await shown.waitFor({ timeout: Math.max(1, LIVE_MS - (performance.now() - start)) });
  }

  it('signs in with the key in a field labelled "API key" (Enter submits), keeps it in this tab only, and signs out', async () => {
    await page.goto(server.url);
    const field = page.getByLabel('API key');
    await field.fill('tl_thisIsNotAKeyThisIsNotAKeyThisIsNot0');
    expectedErrors = [/401/];
    await field.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'A valid API key is required.' }).waitFor();

    await field.fill(server.rootKey);
    await field.press('Enter');
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('tasklane.key'))).toBe(server.rootKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(server.rootKey);
    expect(requests.some((u) => u.includes(server.rootKey))).toBe(false);

    // A reload in the same tab stays signed in; a new tab (context) does not know the key.
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const other = await context.newPage();
    await other.goto(server.url);
    expect(await other.evaluate(() => sessionStorage.getItem('tasklane.key'))).toBeNull();
    await other.close();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('tasklane.key'))).toBeNull();
  });

  it('lists the seeded tasks newest first with counts by status, and keeps filters in the address', async () => {
    await signIn(server.rootKey);
    const titles = page.locator('tr[data-task-id] .task-title');
    await titles.first().waitFor();
    expect(await titles.first().textContent()).toBe('Transcode product demo (720p)');
    await page.getByText('Nightly pentest of api.example.com').waitFor();
    await expect.poll(() => page.locator('.summary-failed .summary-count').textContent()).not.toBe('–');

    await page.getByRole('button', { name: /Failed/ }).click();
    await expect.poll(() => page.url()).toContain('status=failed');
    await expect.poll(() => titles.allTextContents()).toEqual(['Send password reset to j.doe@example.com']);
    await page.getByLabel('Type').selectOption('email.send');
    await expect.poll(() => new URL(page.url()).search).toBe('?status=failed&type=email.send');

    // The address alone reproduces the view (a colleague opening the link, signed in).
    await page.goto(`${server.url}/?status=completed&label=routine`);
    await expect.poll(() => titles.count()).toBe(5);
    expect(await page.getByRole('button', { name: /Completed/ }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByLabel('Label').inputValue()).toBe('routine');
  });

  it('opens a task by identifier from the search box; a task has an address of its own', async () => {
    await signIn(server.rootKey);
    const featured = await root.tasks.get(ids.featured);
    await page.getByLabel('Open a task by id or identifier, or search titles').fill(featured.identifier ?? '');
    await page.getByLabel('Open a task by id or identifier, or search titles').press('Enter');
    await page.getByRole('heading', { name: 'Nightly pentest of api.example.com', level: 1 }).waitFor();
    expect(page.url()).toBe(`${server.url}/tasks/${featured.id}`);
    await page.locator('.progress-message').getByText('Scanning 412 of 640 endpoints').waitFor();
    // In the steps; the timeline (the task's events, replayed by its stream) names it too.
    await page.locator('ol.steps').getByText('Found 640 endpoints in the OpenAPI document').waitFor();
    expect(await page.locator('.task-head progress, .progress-card progress').first().getAttribute('value')).toBe(
      '0.64',
    );
    await page.getByText('scanner-07, expires').waitFor();
    await page.getByText('SEC-118').waitFor();
    await page.getByRole('list', { name: 'Tasks of the list' }).waitFor();
    const curl = await page.locator('pre.curl').textContent();
    expect(curl).toContain('$TASKLANE_KEY');
    expect(curl).not.toContain(server.rootKey);
    // Shared as a link: the identifier's address opens the same task.
    await page.goto(`${server.url}/tasks/${featured.identifier}`);
    await page.getByRole('heading', { name: 'Nightly pentest of api.example.com', level: 1 }).waitFor();
    // Anything else searches titles (q), case ignored, the list's other filters kept.
    await page.goto(`${server.url}/?label=security`);
    const box = page.getByLabel('Open a task by id or identifier, or search titles');
    await box.fill('PENTEST');
    await box.press('Enter');
    await expect.poll(() => new URL(page.url()).search).toBe('?label=security&q=PENTEST');
    const titles = page.locator('tr[data-task-id] .task-title');
    await expect.poll(() => titles.allTextContents()).toEqual(['Nightly pentest of api.example.com']);
    expect(await page.getByLabel('Title contains').inputValue()).toBe('PENTEST');
    // An identifier no task has is searched for in titles too (after the 404 the browser logs).
    expectedErrors = [/404 .*\/v1\/tasks\/ZZZ-9$/];
    await box.fill('ZZZ-9');
    await box.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('ZZZ-9');
    await page.getByText(/No task matches/).waitFor();
  });

  it('live: a worker claims, heartbeats with progress and a step, completes; the task page, then the list, show each change within 2 s, without a reload', async () => {
    const t = await root.tasks.create({ type: 'e2e.live', title: 'Live worker run' });
    await signIn(server.rootKey, `/tasks/${t.id}`);
    await badge(page).filter({ hasText: 'Queued' }).waitFor();
    // The task's stream is open (its history replayed): what the worker does from now on must show.
    await liveStatus(page).waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    const streams: string[] = [];
    page.on('request', (r) => {
      if (/\/events(\?|$)/.test(r.url())) streams.push(r.url());
    });

    // This task by its id: a claim by type could take another test's queued task of the same type.
    let leaseId = '';
    await shownLive(
      async () => {
        const held = await root.workers.claimOne(t.id, { workerId: 'e2e-worker' });
        leaseId = held.lease?.id ?? '';
      },
      badge(page).filter({ hasText: 'In progress' }),
    );
    await shownLive(
      () =>
        root.workers.heartbeat(t.id, {
          leaseId,
          progress: 0.4,
          progressMessage: 'Halfway there',
          steps: [{ message: 'Fetched the input' }],
        }),
      page.locator('.progress-message').getByText('Halfway there'),
    );
    await page.locator('ol.steps').getByText('Fetched the input').waitFor({ timeout: LIVE_MS });
    await shownLive(
      () => root.workers.complete(t.id, { leaseId, result: { ok: true } }),
      badge(page).filter({ hasText: 'Completed' }),
    );
    // The server ends a done task's stream; the page stays on it, with no new request.
    await page.getByRole('status').filter({ hasText: 'Final' }).waitFor();
    expect(streams).toEqual([]);

    await page.goto(server.url);
    // The org's stream starts at "now": a task created before it is open is in the page, not "new".
    await liveStatus(page).waitFor();
    let other: Task | undefined;
    await shownLive(async () => {
      other = await root.tasks.create({ type: 'e2e.live', title: 'Live list row' });
    }, page.getByText('1 new task since this page loaded'));
    const otherId = other?.id ?? '';
    await page.getByRole('button', { name: 'Show' }).click();
    await rowOf(page, otherId).waitFor();
    await shownLive(
      () => root.workers.claimOne(otherId, { workerId: 'e2e-worker' }),
      rowOf(page, otherId).locator('.badge').filter({ hasText: 'In progress' }),
    );
    expect(navigations.filter((u) => u.startsWith(server.url)).length).toBeLessThanOrEqual(1);
  });

  /**
   * Frames of the contract (docs/events.md) served by the test (page.route), one answer per
   * connection, each ending the connection: drops and resumes on cue, which a real server gives only
   * when it stops. The page follows the frames, reconnects with Last-Event-ID, and ends with the task.
   */
  async function simulateEvents(streams: Array<(lastEventId: string | undefined) => string>) {
    const seen: Array<string | undefined> = [];
    await page.route(/\/v1\/(events|tasks\/[^/]+\/events)(\?|$)/, async (route) => {
      const last = route.request().headers()['last-event-id'];
      seen.push(last);
      const next = streams.shift();
      await route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
        body: next === undefined ? '' : next(last),
      });
    });
    return seen;
  }
  const sse = (id: number, taskId: string, type: string, data: unknown) =>
    `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, taskId, time: new Date().toISOString(), data })}\n\n`;

  it('follows the event stream on a task page (simulated frames): status and progress in place, resume with Last-Event-ID, end with the task', async () => {
    const t = await root.tasks.create({ type: 'e2e.sim', title: 'Simulated live task' });
    const seen = await simulateEvents([
      () =>
        ': keepalive\n\n' +
        sse(1, t.id, 'task.created', { status: 'queued', version: 1 }) +
        sse(2, t.id, 'task.status_changed', { from: 'queued', to: 'in_progress', cause: 'claim', version: 2 }) +
        sse(3, t.id, 'task.progress', { progress: 0.5, progressMessage: 'Halfway there', version: 3 }),
      () =>
        sse(4, t.id, 'task.step', {
          step: { time: new Date().toISOString(), message: 'Wrote the report' },
          version: 4,
        }) +
        sse(5, t.id, 'task.status_changed', { from: 'in_progress', to: 'completed', cause: 'complete', version: 5 }),
    ]);
    await signIn(server.rootKey, `/tasks/${t.id}`);
    await badge(page).filter({ hasText: 'Completed' }).waitFor();
    await page.locator('.progress-message').getByText('Halfway there').waitFor();
    await page.locator('ol.steps').getByText('Wrote the report').waitFor();
    await page.getByRole('status').filter({ hasText: 'Final' }).waitFor();
    expect(seen).toEqual([undefined, '3']);
    // The timeline is the events, in order.
    const timeline = await page.locator('ol.timeline li span').allTextContents();
    expect(timeline).toEqual([
      'Created as queued',
      'Queued → In progress (claim)',
      'Progress 50%: Halfway there',
      'Step: Wrote the report',
      'In progress → Completed (complete)',
    ]);
  });

  it('changes a row of the list in place from the org stream (simulated frames), and counts new tasks', async () => {
    const t = await root.tasks.create({ type: 'e2e.sim', title: 'Simulated live row' });
    const seen = await simulateEvents([
      () =>
        sse(10, t.id, 'task.status_changed', { from: 'queued', to: 'in_progress', cause: 'claim', version: 2 }) +
        sse(11, t.id, 'task.progress', { progress: 0.75, progressMessage: 'Almost', version: 3 }) +
        sse(12, 'someone-else', 'task.created', { status: 'queued', version: 1 }),
    ]);
    await signIn(server.rootKey, '/?type=e2e.sim');
    const row = rowOf(page, t.id);
    await row.locator('.badge').filter({ hasText: 'In progress' }).waitFor({ timeout: 5000 });
    await row.locator('progress[value="0.75"]').waitFor({ timeout: 5000 });
    await page.getByText('1 new task since this page loaded').waitFor({ timeout: 5000 });
    expect(seen[0]).toBeUndefined();
    await expect.poll(() => seen[1], { timeout: 5000 }).toBe('12');
  });

  it('API keys (admin): the secret of a new key is shown once, with a copy button; revoke asks first', async () => {
    await signIn(server.rootKey, '/keys');
    await page.getByLabel('Name').fill('ci-bot');
    await page.getByRole('checkbox', { name: 'tasks:write' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.locator('code.secret').textContent()) ?? '';
    expect(secret).toMatch(/^tl_[A-Za-z0-9]{32,}$/);
    await page.getByRole('button', { name: "Copy the new key's secret" }).waitFor();
    const who = await new TasklaneClient({ url: server.url, key: secret }).keys.whoami();
    expect(who).toMatchObject({ name: 'ci-bot', scopes: ['tasks:read', 'tasks:write'] });
    await page.reload();
    await page.getByRole('cell', { name: 'ci-bot', exact: true }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByRole('button', { name: 'Revoke ci-bot' }).click();
    await page.getByRole('dialog', { name: 'Revoke “ci-bot”?' }).getByRole('button', { name: 'Revoke key' }).click();
    await page
      .getByRole('row', { name: /ci-bot/ })
      .getByText('revoked')
      .waitFor();
    await expect(new TasklaneClient({ url: server.url, key: secret }).keys.whoami()).rejects.toMatchObject({
      status: 401,
    });
  });

  it('types: counts per type, the throughput chart, and limits an admin can edit (defaults kept)', async () => {
    await root.types.put('video.transcode', { defaults: { maxRetries: 7 } });
    await signIn(server.rootKey, '/types');
    await page.getByRole('link', { name: 'video.transcode' }).click();
    await page.getByRole('heading', { name: 'video.transcode', level: 1 }).waitFor();
    await page.locator('.chart-canvas canvas').first().waitFor();
    await page.getByText(/1 completed, 0 failed in the last 60 minutes/).waitFor();
    await page.getByLabel('Concurrency (in progress at once)').fill('5');
    await page.getByLabel('Rate limit: claims').fill('100');
    await page.getByLabel('per seconds').fill('60');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Saved.').waitFor();
    expect(await root.types.get('video.transcode')).toMatchObject({
      concurrency: 5,
      rateLimit: { count: 100, perMs: 60_000 },
      defaults: { maxRetries: 7 },
    });
  });

  it('cancels a task from its page, after a confirmation', async () => {
    const t = await root.tasks.create({ type: 'e2e.cancel', title: 'Cancel me from the page' });
    await signIn(server.rootKey, `/tasks/${t.id}`);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel Cancel me from the page?' });
    await dialog.waitFor();
    await dialog.getByLabel('Reason (optional, kept as a step)').fill('not needed any more');
    await dialog.getByRole('button', { name: 'Cancel task' }).click();
    await badge(page).filter({ hasText: 'Canceled' }).waitFor();
    const after = await root.tasks.get(t.id);
    expect(after.status).toBe('canceled');
    expect(after.steps.at(-1)?.message).toBe('cancel: not needed any more');
    await page.getByRole('button', { name: 'Retry' }).waitFor();
  });

  it('approves a task in review, and rejects another with a reason (the reason is required)', async () => {
    const inReview = async (title: string) => {
      const t = await root.tasks.create({ type: 'e2e.review', title, requiresReview: true });
      const [held] = await root.workers.claim({ types: ['e2e.review'], workerId: 'reviewer-bot' });
      await root.workers.complete(t.id, { leaseId: held?.lease?.id ?? '', result: { draft: title } });
      return t;
    };
    const good = await inReview('A good draft');
    const bad = await inReview('A bad draft');
    await signIn(server.rootKey, `/tasks/${good.id}`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await badge(page).filter({ hasText: 'Completed' }).waitFor();
    await page.goto(`${server.url}/tasks/${bad.id}`);
    await page.getByRole('button', { name: 'Reject…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject A bad draft?' });
    expect(await dialog.getByRole('button', { name: 'Reject' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').fill('sources are missing');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await badge(page).filter({ hasText: 'Failed' }).waitFor();
    const after = await root.tasks.get(bad.id);
    expect(after.error?.code).toBe('REJECTED');
    expect(after.steps.at(-1)?.message).toBe('reject: sources are missing');
  });

  it('selects rows and cancels them in one bulk call, with a confirmation that says how many', async () => {
    const a = await root.tasks.create({ type: 'e2e.bulk', title: 'Bulk one' });
    const b = await root.tasks.create({ type: 'e2e.bulk', title: 'Bulk two' });
    await signIn(server.rootKey, '/?type=e2e.bulk');
    await page.getByLabel('Select every task on this page').check();
    await page.getByText('2 tasks selected').waitFor();
    const bulkCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/tasks/bulk')) bulkCalls.push(r.postData() ?? '');
    });
    await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Cancel' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel 2 tasks?' });
    await dialog.getByRole('button', { name: 'Cancel 2 tasks' }).click();
    await page.getByText('2 tasks canceled.').waitFor();
    expect(bulkCalls).toHaveLength(1);
    expect(JSON.parse(bulkCalls[0] ?? '{}')).toMatchObject({ action: 'cancel' });
    expect((await root.tasks.get(a.id)).status).toBe('canceled');
    expect((await root.tasks.get(b.id)).status).toBe('canceled');
    await rowOf(page, a.id).locator('.badge').filter({ hasText: 'Canceled' }).waitFor();
  });

  it('a tasks:read key sees no action: no checkbox, no bulk bar, no button on a task, no keys page', async () => {
    const ro = await root.keys.create({ name: 'read-only viewer', scopes: ['tasks:read'] });
    await signIn(ro.secret);
    await page.locator('tr[data-task-id]').first().waitFor();
    expect(await page.locator('input[type=checkbox]').and(page.locator('table *')).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    for (const id of [ids.featured, ids.review, ids.failed]) {
      await page.goto(`${server.url}/tasks/${id}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'Details' }).waitFor();
      for (const name of ['Cancel task', 'Retry', 'Approve', 'Reject…', 'Archive', 'Unarchive']) {
        expect(await page.getByRole('button', { name, exact: true }).count(), `${name} on ${id}`).toBe(0);
      }
    }
  });

  it('renders HTML from every task field as text: nothing runs, nothing loads, the text is visible', async () => {
    const img = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
    const script = '<script>window.__xss=(window.__xss||0)+1</script>';
    const evil = `${img}${script}`;
    const mk = (title: string) =>
      root.tasks.create({
        type: 'e2e.xss',
        title,
        description: `desc ${evil}`,
        labels: [img, script],
        metadata: { [img]: script, note: evil },
        input: { html: evil },
        assignee: img,
        maxRetries: 0,
      });
    const done = await mk(`done ${evil}`);
    const failed = await mk(`failed ${evil}`);
    const [first, second] = await root.workers.claim({ types: ['e2e.xss'], workerId: img, limit: 2 });
    const leaseOf = (t: Task | undefined) => t?.lease?.id ?? '';
    const byId = new Map([first, second].map((t) => [t?.id, t]));
    await root.workers.heartbeat(done.id, {
      leaseId: leaseOf(byId.get(done.id)),
      progress: 0.5,
      progressMessage: `msg ${evil}`,
      steps: [{ message: `step ${evil}`, data: { html: evil } }],
    });
    await root.workers.complete(done.id, { leaseId: leaseOf(byId.get(done.id)), result: { html: evil } });
    await root.workers.fail(failed.id, {
      leaseId: leaseOf(byId.get(failed.id)),
      error: { code: 'XSS', message: `error ${evil}`, details: { html: evil } },
      retryable: false,
    });

    await signIn(server.rootKey, '/?type=e2e.xss');
    await page.getByText(`done ${evil}`, { exact: true }).waitFor();
    await page.getByText(`failed ${evil}`, { exact: true }).waitFor();
    for (const id of [done.id, failed.id]) {
      await page.goto(`${server.url}/tasks/${id}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByText(`desc ${evil}`, { exact: true }).waitFor();
      await page.getByText(img, { exact: true }).first().waitFor();
      for (const d of await page.locator('details.json').all()) await d.locator('summary').click();
      await page
        .getByText(/"html": "<img src=x onerror=/)
        .first()
        .waitFor();
    }
    await page.getByText(`error ${evil}`, { exact: true }).first().waitFor();
    await page.goto(`${server.url}/tasks/${done.id}`);
    await page.getByText(`step ${evil}`, { exact: true }).waitFor();
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);
    expect(requests.filter((u) => new URL(u).pathname === '/x')).toEqual([]);
  });

  it('has no serious or critical accessibility violation (axe-core) on the sign-in page, the list and a task page', async () => {
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const audit = async (what: string) => {
      await page.evaluate(axeSource);
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
        `${what}: ${JSON.stringify(violations)}`,
      ).toEqual([]);
    };
    await page.goto(server.url);
    await page.getByLabel('API key').waitFor();
    await audit('sign in');
    await signIn(server.rootKey);
    await page.locator('tr[data-task-id]').first().waitFor();
    await audit('task list');
    await page.goto(`${server.url}/tasks/${ids.featured}`);
    await page.getByRole('list', { name: 'Tasks of the list' }).waitFor();
    await audit('task page');
    await page.goto(`${server.url}/tasks/${ids.failed}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await audit('failed task page');
  }, 120_000);

  it('is usable by keyboard: tab to the first task and open it with Enter', async () => {
    await signIn(server.rootKey);
    await page.locator('tr[data-task-id]').first().waitFor();
    const first = page.locator('tr[data-task-id] a.task-title').first();
    const title = await first.textContent();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if (await first.evaluate((el) => el === document.activeElement)) break;
    }
    expect(await first.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: title ?? '', level: 1 }).waitFor();
  });
}
