/**
 * SIGTERM of `tasklane serve` (SPEC §12: stop accepting, finish in-flight requests, exit within
 * 10 s) while a client holds an open connection on which it has sent nothing yet. HTTP clients
 * with connection pools do that (undici opens one for a request that is then aborted; browsers
 * preconnect); the server-kill test met it through the SDK. Nothing is in flight, so the stop
 * should be clean and prompt. And while clients hold event streams, which never end by themselves:
 * the stop ends them (cleanly, so that they resume elsewhere) and exits as promptly.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseClient } from '../../helpers/sse.js';
import { assertBuilt, freePort, startServerProcess, stopAll, tempDir } from './harness.js';

beforeAll(assertBuilt);
afterAll(stopAll);

/** One request on a connection of its own, closed after the answer. */
function getOnce(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('reliability: graceful stop', () => {
  it('SIGTERM while a client holds a connection that sent no request: exits 0 at once (not code 1 at the 9 s hard deadline)', async () => {
    const port = await freePort();
    const server = await startServerProcess({ port, dataDir: tempDir('graceful-stop') });
    const silent = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject));
    // Connections are accepted in order: once a later one is answered, the silent one is the server's.
    expect(await getOnce(`${server.url}/healthz`)).toBe(200);

    const signaledAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const exit = await server.exitWithin(5000);
    const tookMs = Date.now() - signaledAt;
    silent.destroy();
    console.log(
      `[reliability] graceful stop with one silent connection: ${exit === null ? 'still running after' : `exit ${JSON.stringify(exit)} in`} ${tookMs} ms`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(2000);
  }, 30_000);

  it('SIGTERM while clients hold event streams: every stream ends cleanly, and the process exits 0 at once', async () => {
    const port = await freePort();
    const server = await startServerProcess({ port, dataDir: tempDir('graceful-stop-streams') });
    const create = await fetch(`${server.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'held' }),
    });
    const task = (await create.json()) as { id: string };
    const streams = [
      await SseClient.open(`${server.url}/v1/events?after=0`, { key: server.rootKey }),
      await SseClient.open(`${server.url}/v1/tasks/${task.id}/events`, { key: server.rootKey }),
    ];
    for (const c of streams) await c.until((x) => x.events.length === 1, 'the replayed event');

    const signaledAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const exit = await server.exitWithin(5000);
    const tookMs = Date.now() - signaledAt;
    for (const c of streams) await c.untilEnded(1000);
    console.log(
      `[reliability] graceful stop with 2 open event streams: ${exit === null ? 'still running after' : `exit ${JSON.stringify(exit)} in`} ${tookMs} ms`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(2000);
    expect(streams.map((c) => c.endedBy)).toEqual(['end', 'end']);
  }, 30_000);
});
