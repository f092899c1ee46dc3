#!/usr/bin/env node
/* global process, fetch */
// Screenshots of the dashboard for the README: the task list, a task page and the webhooks page,
// light theme, with realistic tasks seeded over a realistic span of time (the server's clock set back
// step by step, scripts/shifted-clock.mjs), and a webhook endpoint on a local receiver that refuses
// one delivery in five (so the log shows a retry), taken by Debian's Chromium through playwright-core.
// `npm run screenshots -w packages/dashboard` (after `npm run build`); writes docs/dashboard-*.png.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { seed } from './seed.mjs';
import { REPO, startTestServer } from './test-server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`screenshots need Chromium at ${CHROMIUM} (apt-get install chromium)\n`);
  process.exit(1);
}

// The receiver: 200, but 503 for every fifth request (those are retried 5 s later).
let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received += 1;
    res.writeHead(received % 5 === 0 ? 503 : 200).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/tasklane`;

const server = await startTestServer({ shiftedClock: true, env: { TASKLANE_WEBHOOK_ALLOW_PRIVATE: '1' } });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const hook = await fetch(`${server.url}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      url: receiverUrl,
      events: ['task.status_changed'],
      description: 'Status changes to the ops bot',
    }),
  });
  if (hook.status !== 201) throw new Error(`creating the webhook answered ${hook.status}: ${await hook.text()}`);
  const ids = await seed(server.url, server.rootKey, { at: (minutesAgo) => server.setClock(-minutesAgo * 60_000) });
  const page = await browser.newPage({
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
    deviceScaleFactor: 1,
  });
  await page.goto(server.url);
  await page.getByLabel('API key').fill(server.rootKey);
  await page.getByLabel('API key').press('Enter');
  await page.locator('table.tasks tbody tr[data-task-id]').first().waitFor();
  // The header shows the stream's state: taken once it is open, not while it says "Connecting".
  const live = page.getByRole('status').filter({ hasText: /^Live$/ });
  await live.waitFor();
  await page.mouse.move(0, 0);
  const list = join(REPO, 'docs/dashboard-list.png');
  await page.screenshot({ path: list, fullPage: true });
  await page.goto(`${server.url}/tasks/${ids.featured}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.locator('.graph-nodes li').first().waitFor();
  await live.waitFor();
  const task = join(REPO, 'docs/dashboard-task.png');
  await page.screenshot({ path: task, fullPage: true });
  await page.goto(`${server.url}/webhooks`);
  await page.getByRole('button', { name: 'Show deliveries' }).first().click();
  await page.getByRole('button', { name: /Retry/ }).first().waitFor();
  await page.mouse.move(0, 0);
  const webhooks = join(REPO, 'docs/dashboard-webhooks.png');
  await page.screenshot({ path: webhooks });
  process.stdout.write(`wrote ${list}\nwrote ${task}\nwrote ${webhooks}\n`);
} finally {
  await browser.close();
  await server.stop();
  receiver.close();
}
