/**
 * A server started from its configuration scrapes over a real port: TASKLANE_METRICS_TOKEN (or the
 * flag) is the token /metrics asks for, a token too short to be one is refused at start, and a
 * scrape reads the counters the API moved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { Scrape } from '../helpers/metrics-text.js';

const TOKEN = 'scrape-me-0123456789abcdef';
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-metrics-'));
  const config = loadConfig(
    { TASKLANE_METRICS_TOKEN: 'overridden-by-the-flag-0000' },
    { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0', metricsToken: TOKEN },
  );
  server = await startServer(config);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the configured token opens /metrics; none, or another, is 401', async () => {
  expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  const wrong = await fetch(`${server.url}/metrics`, {
    headers: { authorization: 'Bearer overridden-by-the-flag-0000' },
  });
  expect(wrong.status).toBe(401);

  const created = await fetch(`${server.url}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'serve.metrics' }),
  });
  expect(created.status).toBe(201);
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const s = new Scrape(await res.text());
  expect(s.value('tasklane_tasks_created_total', { type: 'serve.metrics' })).toBe(1);
});

it('a token shorter than 16 characters is refused at start', () => {
  expect(() => loadConfig({ TASKLANE_METRICS_TOKEN: 'short' }, {})).toThrow(ConfigError);
  expect(() => loadConfig({}, { metricsToken: 'has a space in it, long' })).toThrow(ConfigError);
  expect(loadConfig({ TASKLANE_METRICS_TOKEN: TOKEN }, {}).metricsToken).toBe(TOKEN);
});
