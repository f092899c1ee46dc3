/**
 * GET /v1/tasks/{taskId} (SPEC §4): ETag and If-None-Match, the Retry-After polling hint, and the
 * project identifiers (`OPS-2`) that the path accepts besides the UUID.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  makeHarness,
  missingUuid,
  withoutRequestId,
  type Harness,
  type OrgKeys,
  type WireTask,
} from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness();
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

describe('ETag and If-None-Match', () => {
  test('the ETag is the quoted version, and follows every change', async () => {
    const t = await h.createTask(org.admin);
    const first = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`);
    expect(first.headers.etag).toBe('"1"');
    expect((await h.call(org.admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'b' })).headers.etag).toBe('"2"');
    const second = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`);
    expect(second.headers.etag).toBe('"2"');
    expect(second.json<WireTask>().version).toBe(2);
  });

  test('If-None-Match with the current version is 304 with no body; another version is 200', async () => {
    const t = await h.createTask(org.admin);
    const same = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"1"' });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe('"1"');
    // No length or type of a body that is not there: an HTTP client that trusts Content-Length
    // (undici's request) would wait for the bytes.
    expect(same.headers['content-length']).toBeUndefined();
    expect(same.headers['content-type']).toBeUndefined();
    const weak = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': 'W/"1"' });
    expect(weak.statusCode).toBe(304);
    const other = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"7"' });
    expect(other.statusCode).toBe(200);
    expect(other.json<WireTask>().id).toBe(t.id);
    const star = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '*' });
    expect(star.statusCode).toBe(304);
  });

  test('If-None-Match with a list of ETags is 304 when any of them is current (RFC 9110 §13.1.2)', async () => {
    const t = await h.createTask(org.admin);
    const later = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"1", "5"' });
    expect(later.statusCode).toBe(304);
    const earlier = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"5", "1"' });
    expect(earlier.statusCode).toBe(304);
  });

  test('after a change the old ETag no longer matches', async () => {
    const t = await h.createTask(org.admin);
    await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
    const res = await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"1"' });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"2"');
  });
});

describe('Retry-After, a polling hint while the task is active', () => {
  const retryAfter = async (id: string) => (await h.call(org.admin, 'GET', `/v1/tasks/${id}`)).headers['retry-after'];

  test('present, in whole seconds, in every active status', async () => {
    const queued = await h.createTask(org.admin);
    const backlog = await h.createTask(org.admin, { type: 'x', start: false });
    const blocked = await h.createTask(org.admin, { type: 'x', dependsOn: [queued.id] });
    const working = await h.createTask(org.admin);
    await h.drive(org.orgId, working.id, { name: 'claim', leaseId: 'l', workerId: 'w', leaseMs: 30_000 });
    const review = await h.createTask(org.admin, { type: 'x', requiresReview: true });
    await h.drive(org.orgId, review.id, { name: 'claim', leaseId: 'l2', workerId: 'w', leaseMs: 30_000 });
    await h.drive(org.orgId, review.id, { name: 'complete' });
    for (const t of [queued, backlog, blocked, working, review]) {
      const got = await h.getTask(org.admin, t.id);
      expect(await retryAfter(t.id), got.status).toMatch(/^[1-9][0-9]*$/);
    }
    expect((await h.getTask(org.admin, working.id)).status).toBe('in_progress');
    expect((await h.getTask(org.admin, review.id)).status).toBe('needs_review');
  });

  test('absent once the task is terminal', async () => {
    const canceled = await h.createTask(org.admin);
    await h.call(org.admin, 'POST', `/v1/tasks/${canceled.id}/cancel`, {});
    const completed = await h.createTask(org.admin);
    await h.drive(org.orgId, completed.id, { name: 'claim', leaseId: 'l', workerId: 'w', leaseMs: 30_000 });
    await h.drive(org.orgId, completed.id, { name: 'complete', result: 1 });
    const failed = await h.createTask(org.admin);
    await h.drive(org.orgId, failed.id, { name: 'claim', leaseId: 'l', workerId: 'w', leaseMs: 30_000 });
    await h.drive(org.orgId, failed.id, { name: 'fail', error: { message: 'no' }, retryable: false });
    for (const t of [canceled, completed, failed]) {
      const got = await h.getTask(org.admin, t.id);
      expect(['canceled', 'completed', 'failed']).toContain(got.status);
      expect(await retryAfter(t.id), got.status).toBeUndefined();
    }
  });
});

test('a client sees who holds the lease and until when, never the lease id (SPEC §2)', async () => {
  const t = await h.createTask(org.admin, { type: 'leased' });
  const worker = await h.createKey(org.admin, ['tasks:work']);
  const claimed = await h.call(worker.secret, 'POST', `/v1/tasks/${t.id}/claim`, { workerId: 'w-1' });
  expect(claimed.statusCode, claimed.body).toBe(200);
  const leaseId = claimed.json<WireTask>().lease?.id;
  expect(leaseId).toEqual(expect.any(String));
  for (const res of [
    await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`),
    await h.call(org.admin, 'GET', '/v1/tasks?type=leased'),
    await h.call(org.admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'renamed' }),
  ]) {
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(leaseId);
  }
  expect((await h.getTask(org.admin, t.id)).lease).toEqual({ workerId: 'w-1', expiresAt: expect.any(String) });
});

describe('project identifiers', () => {
  test('tasks of project OPS get OPS-1, OPS-2, and the path accepts them', async () => {
    const project = await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    expect(project.statusCode).toBe(201);
    const projectId = project.json<{ id: string }>().id;
    const one = await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    const two = await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    const outside = await h.createTask(org.admin, { type: 'x' });
    expect(one).toMatchObject({ identifier: 'OPS-1', projectId });
    expect(two).toMatchObject({ identifier: 'OPS-2', projectId });
    expect(outside).toMatchObject({ identifier: null, projectId: null });
    expect(await h.getTask(org.admin, 'OPS-2')).toEqual(await h.getTask(org.admin, two.id));
    // By project id as well as by key.
    expect((await h.createTask(org.admin, { type: 'x', projectId })).identifier).toBe('OPS-3');
  });

  test('lower-case, unknown and malformed identifiers answer like a missing id', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    const missing = await h.call(org.admin, 'GET', `/v1/tasks/${missingUuid()}`);
    for (const ref of ['ops-1', 'Ops-1', 'OPS-2', 'OPS-0', 'OPS-01', 'NOPE-1', 'OPS1', 'OPS-']) {
      const res = await h.call(org.admin, 'GET', `/v1/tasks/${ref}`);
      expect(res.statusCode, ref).toBe(404);
      expect(withoutRequestId(res), ref).toEqual(withoutRequestId(missing));
    }
  });

  test("another org's identifiers are not found, even when this org has the same project key", async () => {
    const other = await h.newOrg();
    await h.call(other.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Theirs' });
    await h.createTask(other.admin, { type: 'x', projectId: 'OPS' });
    const theirs2 = await h.createTask(other.admin, { type: 'x', projectId: 'OPS' });
    expect(theirs2.identifier).toBe('OPS-2');
    expect((await h.call(org.admin, 'GET', '/v1/tasks/OPS-2')).statusCode).toBe(404);
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Ours' });
    const ours = await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    expect(ours.identifier).toBe('OPS-1');
    expect((await h.call(org.admin, 'GET', '/v1/tasks/OPS-2')).statusCode).toBe(404);
    expect((await h.getTask(org.admin, 'OPS-1')).id).toBe(ours.id);
  });

  test('every task route accepts the identifier', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    const t = await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    expect((await h.call(org.admin, 'PATCH', '/v1/tasks/OPS-1', { title: 'renamed' })).json()).toMatchObject({
      id: t.id,
      title: 'renamed',
    });
    expect((await h.call(org.admin, 'POST', '/v1/tasks/OPS-1/steps', { steps: [{ message: 'm' }] })).statusCode).toBe(
      200,
    );
    expect((await h.call(org.admin, 'GET', '/v1/tasks/OPS-1/steps')).json()).toMatchObject({
      steps: [{ message: 'm' }],
    });
    expect((await h.call(org.admin, 'POST', '/v1/tasks/OPS-1/cancel', {})).json()).toMatchObject({
      id: t.id,
      status: 'canceled',
    });
    expect((await h.call(org.admin, 'DELETE', '/v1/tasks/OPS-1')).statusCode).toBe(204);
    expect((await h.call(org.admin, 'GET', `/v1/tasks/${t.id}`)).statusCode).toBe(404);
  });

  test('identifiers are never reused, even after a delete', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    const two = await h.createTask(org.admin, { type: 'x', projectId: 'OPS' });
    await h.call(org.admin, 'POST', `/v1/tasks/${two.id}/cancel`, {});
    expect((await h.call(org.admin, 'DELETE', `/v1/tasks/${two.id}`)).statusCode).toBe(204);
    expect((await h.createTask(org.admin, { type: 'x', projectId: 'OPS' })).identifier).toBe('OPS-3');
    expect((await h.call(org.admin, 'GET', '/v1/tasks/OPS-2')).statusCode).toBe(404);
  });

  test('a batch numbers its project tasks in the order given', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'DEV', name: 'Development' });
    const res = await h.call(org.admin, 'POST', '/v1/tasks/batch', {
      tasks: [
        { type: 'x', projectId: 'OPS' },
        { type: 'x', projectId: 'DEV' },
        { type: 'x', projectId: 'OPS' },
        { type: 'x' },
      ],
    });
    expect(res.json<{ tasks: WireTask[] }>().tasks.map((t) => t.identifier)).toEqual(['OPS-1', 'DEV-1', 'OPS-2', null]);
  });

  test('an unknown project refuses the create, and a refused create takes no number', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', projectId: 'NOPE' });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    const batch = await h.call(org.admin, 'POST', '/v1/tasks/batch', {
      tasks: [
        { type: 'x', projectId: 'OPS' },
        { type: 'x', projectId: 'NOPE' },
      ],
    });
    expect(batch.statusCode).toBeGreaterThanOrEqual(400);
    expect(await h.listAll(org.admin)).toEqual([]);
    expect((await h.createTask(org.admin, { type: 'x', projectId: 'OPS' })).identifier).toBe('OPS-1');
  });
});

describe('projects', () => {
  test('create, list, and get by key or id', async () => {
    const created = await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
    expect(created.statusCode).toBe(201);
    const p = created.json<{ id: string; key: string; name: string; createdAt: string }>();
    expect(p).toMatchObject({ key: 'OPS', name: 'Operations' });
    expect((await h.call(org.admin, 'GET', '/v1/projects/OPS')).json()).toEqual(p);
    expect((await h.call(org.admin, 'GET', `/v1/projects/${p.id}`)).json()).toEqual(p);
    expect((await h.call(org.admin, 'GET', '/v1/projects')).json()).toEqual({ items: [p] });
    expect((await h.call(org.admin, 'GET', '/v1/projects/NOPE')).statusCode).toBe(404);
  });

  test('a key must be an upper-case prefix, and unique in the org', async () => {
    for (const key of ['ops', 'O', '1OPS', 'OPS-1', 'ABCDEFGHIJK', 'OP S']) {
      const res = await h.call(org.admin, 'POST', '/v1/projects', { key, name: 'x' });
      expect(res.statusCode, key).toBe(400);
    }
    expect((await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'x' })).statusCode).toBe(201);
    const dup = await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'again' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'CONFLICT' });
  });
});

test('an upper-case UUID in the path names the same task', async () => {
  const t = await h.createTask(org.admin);
  expect((await h.getTask(org.admin, t.id.toUpperCase())).id).toBe(t.id);
});

test('a task id that is not a UUID or identifier answers like a missing id', async () => {
  const missing = await h.call(org.admin, 'GET', `/v1/tasks/${missingUuid()}`);
  for (const ref of ['nothing', '123', 'undefined']) {
    const res = await h.call(org.admin, 'GET', `/v1/tasks/${ref}`);
    expect(res.statusCode, ref).toBe(404);
    expect(withoutRequestId(res)).toEqual(withoutRequestId(missing));
  }
});
