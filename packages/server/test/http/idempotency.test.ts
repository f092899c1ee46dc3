/**
 * Idempotency-Key on POST /v1/tasks and /v1/tasks/batch (SPEC §4): same key and body → the same
 * task (200), other body → 422, per org, whatever the order of the body's keys; and concurrent
 * identical requests make exactly one task.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type Response, type WireTask } from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness();
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const create = (key: string, body: unknown, idem: string) =>
  h.call(key, 'POST', '/v1/tasks', body, { 'idempotency-key': idem });

test('20 concurrent identical creates make one task: one 201, nineteen 200, one id', async () => {
  const body = { type: 'email.send', input: { to: 'a@example.com' }, labels: ['x'] };
  const answers: Response[] = await Promise.all(
    Array.from({ length: 20 }, () => create(org.admin, body, 'order-1234')),
  );
  const statuses = answers.map((r) => r.statusCode).sort();
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 200)).toHaveLength(19);
  const ids = new Set(answers.map((r) => r.json<WireTask>().id));
  expect(ids.size).toBe(1);
  const [id] = [...ids];
  for (const r of answers) {
    expect(r.headers.location).toBe(`/v1/tasks/${id}`);
    expect(r.json<WireTask>()).toMatchObject({ idempotencyKey: 'order-1234', version: 1 });
  }
  expect((await h.listAll(org.admin)).map((t) => t.id)).toEqual([id]);
});

test('20 concurrent identical creates over a real socket make one task', async () => {
  const other = await makeHarness();
  try {
    const base = await other.app.listen({ port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ type: 'email.send', title: 'over the wire' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${base}/v1/tasks`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${other.a.admin}`,
            'content-type': 'application/json',
            'idempotency-key': 'wire-1',
          },
          body,
        });
        return { status: res.status, id: ((await res.json()) as WireTask).id };
      }),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(await other.listAll(other.a.admin)).toHaveLength(1);
  } finally {
    await other.cleanup();
  }
});

test('a replay answers 200 with the task as it is now', async () => {
  const first = await create(org.admin, { type: 'x' }, 'k1');
  expect(first.statusCode).toBe(201);
  const id = first.json<WireTask>().id;
  await h.call(org.admin, 'PATCH', `/v1/tasks/${id}`, { title: 'renamed' });
  const again = await create(org.admin, { type: 'x' }, 'k1');
  expect(again.statusCode).toBe(200);
  expect(again.json()).toMatchObject({ id, title: 'renamed', version: 2 });
  expect(again.headers.etag).toBe('"2"');
});

test('the same key with another body is 422 IDEMPOTENCY_MISMATCH and creates nothing', async () => {
  const first = await create(org.admin, { type: 'x', priority: 1 }, 'k2');
  expect(first.statusCode).toBe(201);
  for (const body of [
    { type: 'x', priority: 2 },
    { type: 'y', priority: 1 },
    { type: 'x' },
    { type: 'x', priority: 1, title: 'x' },
  ]) {
    const res = await create(org.admin, body, 'k2');
    expect(res.statusCode, JSON.stringify(body)).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
  }
  expect(await h.listAll(org.admin)).toHaveLength(1);
});

test('the order of keys in the body does not matter, at any depth', async () => {
  const first = await create(org.admin, { type: 'x', title: 't', metadata: { a: 1, b: { c: 2, d: 3 } } }, 'k3');
  const again = await create(org.admin, { metadata: { b: { d: 3, c: 2 }, a: 1 }, title: 't', type: 'x' }, 'k3');
  expect(first.statusCode).toBe(201);
  expect(again.statusCode).toBe(200);
  expect(again.json<WireTask>().id).toBe(first.json<WireTask>().id);
});

test('keys are per org: the same key in another org is independent', async () => {
  const other = await h.newOrg();
  const mine = await create(org.admin, { type: 'x' }, 'shared-key');
  const theirsSame = await create(other.admin, { type: 'x' }, 'shared-key');
  expect(mine.statusCode).toBe(201);
  expect(theirsSame.statusCode).toBe(201);
  expect(theirsSame.json<WireTask>().id).not.toBe(mine.json<WireTask>().id);
  const third = await h.newOrg();
  expect((await create(third.admin, { type: 'something.else' }, 'shared-key')).statusCode).toBe(201);
  // And each org's record is still its own.
  const mineAgain = await create(org.admin, { type: 'x' }, 'shared-key');
  expect(mineAgain.statusCode).toBe(200);
  expect(mineAgain.json<WireTask>().id).toBe(mine.json<WireTask>().id);
});

test('without the header, identical bodies make distinct tasks', async () => {
  const a = await h.createTask(org.admin, { type: 'x' });
  const b = await h.createTask(org.admin, { type: 'x' });
  expect(a.id).not.toBe(b.id);
  expect(a.idempotencyKey).toBeNull();
});

test('a refused create does not reserve the key', async () => {
  const bad = await create(org.admin, { type: 'x', priority: 'high' }, 'k4');
  expect(bad.statusCode).toBe(400);
  const good = await create(org.admin, { type: 'x', priority: 5 }, 'k4');
  expect(good.statusCode).toBe(201);
});

test('a batch replays whole, in order', async () => {
  const body = { tasks: [{ type: 'a', ref: 'a' }, { type: 'b', dependsOn: ['a'] }, { type: 'c' }] };
  const first = await h.call(org.admin, 'POST', '/v1/tasks/batch', body, { 'idempotency-key': 'batch-1' });
  const again = await h.call(org.admin, 'POST', '/v1/tasks/batch', body, { 'idempotency-key': 'batch-1' });
  expect(first.statusCode).toBe(201);
  expect(again.statusCode).toBe(200);
  const ids = (r: Response) => r.json<{ tasks: WireTask[] }>().tasks.map((t) => t.id);
  expect(ids(again)).toEqual(ids(first));
  expect(await h.listAll(org.admin)).toHaveLength(3);
  const other = await h.call(
    org.admin,
    'POST',
    '/v1/tasks/batch',
    { tasks: [{ type: 'a' }] },
    { 'idempotency-key': 'batch-1' },
  );
  expect(other.statusCode).toBe(422);
  expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
});

test('a key used for a single create does not replay as a batch', async () => {
  expect((await create(org.admin, { type: 'x' }, 'k5')).statusCode).toBe(201);
  const res = await h.call(
    org.admin,
    'POST',
    '/v1/tasks/batch',
    { tasks: [{ type: 'x' }] },
    { 'idempotency-key': 'k5' },
  );
  expect(res.statusCode).toBe(422);
  expect(await h.listAll(org.admin)).toHaveLength(1);
});

test('replaying a key whose task was deleted is a clear 4xx problem, never a 500', async () => {
  const first = await create(org.admin, { type: 'x' }, 'k6');
  const id = first.json<WireTask>().id;
  await h.call(org.admin, 'POST', `/v1/tasks/${id}/cancel`, {});
  expect((await h.call(org.admin, 'DELETE', `/v1/tasks/${id}`)).statusCode).toBe(204);
  const again = await create(org.admin, { type: 'x' }, 'k6');
  expect(again.statusCode, again.body).toBeGreaterThanOrEqual(400);
  expect(again.statusCode, again.body).toBeLessThan(500);
  expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
});

test('an Idempotency-Key that is empty, too long or not visible ASCII is 400', async () => {
  for (const key of ['x'.repeat(256), 'with space', 'ümlaut']) {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x' }, { 'idempotency-key': key });
    expect(res.statusCode, key).toBe(400);
  }
  expect(await h.listAll(org.admin)).toEqual([]);
});
