/**
 * GET /v1/tasks/{taskId}?wait=N over a real socket (SPEC §4): with If-None-Match, held until the
 * task changes (200) or N passes (304); without it, held until the task is done or N passes (200).
 * Changes are made through the API while the poll is held; "held" is read from the change hub.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { makeHarness, until, type Harness, type OrgKeys, type WireTask } from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
let base: string;

beforeAll(async () => {
  h = await makeHarness();
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const waiting = () => h.services.changes.size;

function poll(id: string, query: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const started = performance.now();
  const response = fetch(`${base}/v1/tasks/${id}${query}`, {
    headers: { authorization: `Bearer ${org.admin}`, ...headers },
    ...(signal === undefined ? {} : { signal }),
  });
  return {
    async done(): Promise<{ status: number; ms: number; etag: string | null; body: string }> {
      const res = await response;
      const body = await res.text();
      return { status: res.status, ms: performance.now() - started, etag: res.headers.get('etag'), body };
    },
  };
}

test('with If-None-Match of the current version, a change answers 200 at once', async () => {
  const t = await h.createTask(org.admin);
  const p = poll(t.id, '?wait=5', { 'if-none-match': '"1"' });
  await until(() => waiting() === 1, 'the long-poll to be held');
  const patched = await h.call(org.admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'changed' });
  expect(patched.statusCode).toBe(200);
  const res = await p.done();
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(2000);
  expect(res.etag).toBe('"2"');
  expect(JSON.parse(res.body)).toMatchObject({ id: t.id, title: 'changed', version: 2 });
  await until(() => waiting() === 0, 'the waiter to be released');
});

test('with If-None-Match of the current version and no change, 304 once the wait has passed', async () => {
  const t = await h.createTask(org.admin);
  const res = await poll(t.id, '?wait=1', { 'if-none-match': '"1"' }).done();
  expect(res.status).toBe(304);
  expect(res.body).toBe('');
  expect(res.etag).toBe('"1"');
  expect(res.ms).toBeGreaterThanOrEqual(950);
  expect(res.ms).toBeLessThan(3000);
  await until(() => waiting() === 0, 'the waiter to be released');
});

test('with a stale If-None-Match, 200 at once', async () => {
  const t = await h.createTask(org.admin);
  await h.call(org.admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'v2' });
  const res = await poll(t.id, '?wait=60', { 'if-none-match': '"1"' }).done();
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(1000);
  expect(JSON.parse(res.body)).toMatchObject({ version: 2 });
});

test('without If-None-Match, held until the task is canceled, then 200 with the terminal task', async () => {
  const t = await h.createTask(org.admin);
  const p = poll(t.id, '?wait=5');
  await until(() => waiting() === 1, 'the long-poll to be held');
  // A change that does not finish the task does not end the poll.
  await h.call(org.admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'still going' });
  await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
  const res = await p.done();
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(2000);
  expect(JSON.parse(res.body)).toMatchObject({ status: 'canceled', title: 'still going' });
});

test('without If-None-Match, an active task that does not finish answers 200 once the wait has passed', async () => {
  const t = await h.createTask(org.admin);
  const res = await poll(t.id, '?wait=1').done();
  expect(res.status).toBe(200);
  expect(res.ms).toBeGreaterThanOrEqual(950);
  expect(JSON.parse(res.body)).toMatchObject({ id: t.id, status: 'queued' });
});

test('without If-None-Match, a task already done answers 200 at once', async () => {
  const t = await h.createTask(org.admin);
  await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
  const res = await poll(t.id, '?wait=30').done();
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(1000);
});

test('every poller of the task wakes on one change', async () => {
  const t = await h.createTask(org.admin);
  const polls = Array.from({ length: 5 }, () => poll(t.id, '?wait=5', { 'if-none-match': '"1"' }));
  await until(() => waiting() === 5, 'five long-polls to be held');
  await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/block`, { reason: 'hold on' });
  for (const p of polls) {
    const res = await p.done();
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
  }
});

test('a change to another task does not wake the poll', async () => {
  const t = await h.createTask(org.admin);
  const other = await h.createTask(org.admin);
  const p = poll(t.id, '?wait=1', { 'if-none-match': '"1"' });
  await until(() => waiting() === 1, 'the long-poll to be held');
  await h.call(org.admin, 'PATCH', `/v1/tasks/${other.id}`, { title: 'other' });
  expect((await p.done()).status).toBe(304);
});

test('a client that goes away releases its waiter', async () => {
  const t = await h.createTask(org.admin);
  const abort = new AbortController();
  const p = poll(t.id, '?wait=30', { 'if-none-match': '"1"' }, abort.signal);
  await until(() => waiting() === 1, 'the long-poll to be held');
  abort.abort();
  await expect(p.done()).rejects.toThrow();
  await until(() => waiting() === 0, 'the server to drop the waiter');
});

test('a task deleted while polled answers 404 promptly, not after the whole wait', async () => {
  const t = await h.createTask(org.admin);
  await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
  const p = poll(t.id, '?wait=4', { 'if-none-match': '"2"' });
  await until(() => waiting() === 1, 'the long-poll to be held');
  expect((await h.call(org.admin, 'DELETE', `/v1/tasks/${t.id}`)).statusCode).toBe(204);
  const res = await p.done();
  expect(res.status).toBe(404);
  expect(res.ms).toBeLessThan(2000);
});

test('wait must be a whole number of seconds from 0 to 60', async () => {
  const t = await h.createTask(org.admin);
  for (const wait of ['61', '3600', '-1', 'abc', '1.5']) {
    const res = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}?wait=${wait}`);
    expect(res.statusCode, wait).toBe(400);
    expect(res.json(), wait).toMatchObject({ code: 'VALIDATION_FAILED' });
  }
  expect((await h.call(org.admin, 'GET', `/v1/tasks/${t.id}?wait=0`)).json<WireTask>().id).toBe(t.id);
});
