/**
 * docs/events.md's client example does what the page says, run as it is printed there against a
 * server on a real port: it follows the org's stream, resumes after the stream ends (a node
 * stopping) from the last id without losing or repeating an event, and returns once a task's
 * stream has sent the task's terminal event.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { streamServer, type StreamServer } from '../helpers/sse.js';

const DOC = fileURLToPath(new URL('../../../../docs/events.md', import.meta.url));

type Follow = (url: string, key: string, onEvent: (type: string, data: unknown) => void) => Promise<void>;

let s: StreamServer;
let dir: string;
let follow: Follow;

beforeAll(async () => {
  const example = /```js\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'))?.[1];
  if (example === undefined) throw new Error('docs/events.md has no js example');
  dir = mkdtempSync(join(tmpdir(), 'tasklane-doc-'));
  const file = join(dir, 'follow.mjs');
  writeFileSync(file, `${example}\nexport { follow };\n`);
  ({ follow } = (await import(pathToFileURL(file).href)) as { follow: Follow });
  s = await streamServer();
});
afterAll(async () => {
  await s.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

it('follows the org stream and resumes after the stream ends, each event once', async () => {
  const { admin } = await s.newOrg();
  const reader = await s.createKey(admin, ['tasks:read']);
  const seen: Array<{ type: string; id: number }> = [];
  const following = follow(`${s.url}/v1/events`, reader.secret, (type, data) =>
    seen.push({ type, id: (data as { id: number }).id }),
  );
  await until(() => s.services.events.openStreams === 1, 'the stream to open');
  const first = await s.createTask(admin, { type: 'doc.example' });
  await until(() => seen.length === 1, 'the first event');
  // The node ends its streams (as on SIGTERM); events committed meanwhile are not lost.
  s.services.events.endAll();
  await s.call(admin, 'PATCH', `/v1/tasks/${first.id}`, { title: 'while away' });
  await until(() => seen.length === 2, 'the event committed while it was away', 10_000);
  await s.call(admin, 'PATCH', `/v1/tasks/${first.id}`, { title: 'back' });
  await until(() => seen.length === 3, 'a live event after the reconnect');
  expect(seen.map((e) => e.type)).toEqual(['task.created', 'task.updated', 'task.updated']);
  expect(new Set(seen.map((e) => e.id)).size).toBe(3);
  // Its key revoked, the next reconnect is refused: the example gives up (and the test's loop ends).
  await s.call(admin, 'DELETE', `/v1/keys/${reader.id}`);
  s.services.events.endAll();
  await expect(following).rejects.toThrow('HTTP 401');
});

it("returns once a task's stream has sent its terminal event", async () => {
  const { admin } = await s.newOrg();
  const t = await s.createTask(admin, { type: 'doc.example' });
  const types: string[] = [];
  const following = follow(`${s.url}/v1/tasks/${t.id}/events`, admin, (type) => types.push(type));
  await until(() => types.length === 1, 'the replayed event');
  await s.call(admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
  await following;
  expect(types).toEqual(['task.created', 'task.status_changed']);
});

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
