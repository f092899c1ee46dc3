/**
 * Held requests are held: a long-poll GET or claim with nothing to report waits its full time over
 * a real socket (a request's 'close' fires once its body is read, and once ended long-polls at once),
 * and ends early when the client goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

let server: RunningServer;
let dir: string;
let headers: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-hold-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
  headers = { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' };
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function timed(path: string, init: RequestInit): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(server.url + path, { ...init, headers });
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

describe('long-polls over a real socket', () => {
  it('GET ?wait=1 with an unchanged If-None-Match holds for the whole second, then 304', async () => {
    const created = (await (
      await fetch(`${server.url}/v1/tasks`, { method: 'POST', headers, body: '{"type":"hold"}' })
    ).json()) as { id: string };
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/tasks/${created.id}?wait=1`, {
      headers: { ...headers, 'if-none-match': '"1"' },
    });
    expect(res.status).toBe(304);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('a claim with waitMs and nothing to claim holds for waitMs, then answers no tasks', async () => {
    const r = await timed('/v1/tasks/claim', {
      method: 'POST',
      body: JSON.stringify({ types: ['nothing'], workerId: 'w', waitMs: 600 }),
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ tasks: [] });
    expect(r.ms).toBeGreaterThanOrEqual(550);
  });

  it('a waiting claim wakes within milliseconds of a create', async () => {
    const claim = timed('/v1/tasks/claim', {
      method: 'POST',
      body: JSON.stringify({ types: ['wake'], workerId: 'w', waitMs: 10_000 }),
    });
    // Let the claim reach the server and start waiting (it answers only once a task exists).
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await fetch(`${server.url}/v1/tasks`, { method: 'POST', headers, body: '{"type":"wake"}' });
    const r = await claim;
    const wake = performance.now() - t0;
    expect(JSON.parse(r.body).tasks).toHaveLength(1);
    console.log(`claim woke ${wake.toFixed(1)} ms after the create was sent`);
    expect(wake).toBeLessThan(1000);
  });
});
