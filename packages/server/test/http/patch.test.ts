/**
 * PATCH /v1/tasks/{taskId} (SPEC §4): the writable fields, metadata merge, If-Match, and the
 * fields that are never writable here.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type WireTask } from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const patch = (id: string, body: unknown, headers?: Record<string, string>) =>
  h.call(org.admin, 'PATCH', `/v1/tasks/${id}`, body, headers);

test('every writable field changes, the version goes up by one, updatedAt moves', async () => {
  const t = await h.createTask(org.admin, { type: 'x', metadata: { keep: 1 } });
  h.manualClock?.advance(5000);
  const change = {
    title: 'New title',
    description: 'Now described',
    priority: 42,
    labels: ['a', 'b'],
    assignee: 'agent-9',
    requiresReview: true,
  };
  const res = await patch(t.id, change);
  expect(res.statusCode, res.body).toBe(200);
  const after = res.json<WireTask>();
  expect(after).toMatchObject({ ...change, version: 2, status: 'queued', metadata: { keep: 1 } });
  expect(res.headers.etag).toBe('"2"');
  expect(Date.parse(after.updatedAt) - Date.parse(t.updatedAt)).toBe(5000);
  expect(after.createdAt).toBe(t.createdAt);
  expect(await h.getTask(org.admin, t.id)).toEqual(after);
});

test('each PATCH is one version', async () => {
  const t = await h.createTask(org.admin);
  for (let i = 1; i <= 3; i++) expect((await patch(t.id, { priority: i })).json<WireTask>().version).toBe(1 + i);
});

test('description and assignee may be cleared with null', async () => {
  const t = await h.createTask(org.admin, { type: 'x', description: 'd', assignee: 'a' });
  expect((await patch(t.id, { description: null, assignee: null })).json()).toMatchObject({
    description: null,
    assignee: null,
  });
});

test('metadata is merged: new keys added, changed keys replaced, null deletes a key', async () => {
  const t = await h.createTask(org.admin, { type: 'x', metadata: { a: 1, b: { deep: true }, c: 'keep' } });
  const res = await patch(t.id, { metadata: { a: 2, b: null, d: [1, 2] } });
  expect(res.json<WireTask>().metadata).toEqual({ a: 2, c: 'keep', d: [1, 2] });
  expect((await h.getTask(org.admin, t.id)).metadata).toEqual({ a: 2, c: 'keep', d: [1, 2] });
});

test('a merge that would pass 64 metadata keys is 400 and changes nothing', async () => {
  const full = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i]));
  const t = await h.createTask(org.admin, { type: 'x', metadata: full });
  const res = await patch(t.id, { metadata: { one: 'more' } });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect(await h.getTask(org.admin, t.id)).toEqual(t);
  // Replacing one key while deleting another stays within the limit.
  expect((await patch(t.id, { metadata: { k0: null, one: 'more' } })).statusCode).toBe(200);
});

describe('If-Match', () => {
  test('the current ETag passes', async () => {
    const t = await h.createTask(org.admin);
    const res = await patch(t.id, { title: 'ok' }, { 'if-match': '"1"' });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"2"');
  });

  test('a stale ETag is 412 PRECONDITION_FAILED and changes nothing', async () => {
    const t = await h.createTask(org.admin);
    await patch(t.id, { title: 'second' });
    const before = await h.getTask(org.admin, t.id);
    for (const stale of ['"1"', 'W/"1"', '"99"', 'garbage']) {
      const res = await patch(t.id, { title: 'lost update' }, { 'if-match': stale });
      expect(res.statusCode, stale).toBe(412);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json(), stale).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED' });
    }
    expect(await h.getTask(org.admin, t.id)).toEqual(before);
  });

  test('* matches any version', async () => {
    const t = await h.createTask(org.admin);
    expect((await patch(t.id, { title: 'any' }, { 'if-match': '*' })).statusCode).toBe(200);
  });

  test('a list of ETags passes when one of them is current', async () => {
    const t = await h.createTask(org.admin);
    expect((await patch(t.id, { title: 'x' }, { 'if-match': '"7", "1"' })).statusCode).toBe(200);
  });
});

describe('refused bodies change nothing', () => {
  test.each([
    ['status', { status: 'completed' }, '/status'],
    ['version', { version: 9 }, '/version'],
    ['progress', { progress: 1 }, '/progress'],
    ['type', { type: 'other' }, '/type'],
    ['orgId', { orgId: 'org-b' }, '/orgId'],
    ['dependsOn', { dependsOn: [] }, '/dependsOn'],
    ['result', { result: 1 }, '/result'],
    ['a string priority', { priority: '5' }, '/priority'],
    ['priority out of range', { priority: 1001 }, '/priority'],
    ['a title too long', { title: 'x'.repeat(501) }, '/title'],
    ['an empty title', { title: '' }, '/title'],
    ['33 labels', { labels: Array.from({ length: 33 }, (_, i) => `l${i}`) }, '/labels'],
  ])('%s', async (_name, body, path) => {
    const t = await h.createTask(org.admin);
    const res = await patch(t.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path)).toContain(path);
    expect(await h.getTask(org.admin, t.id)).toEqual(t);
  });

  test('an empty body', async () => {
    const t = await h.createTask(org.admin);
    expect((await patch(t.id, {})).statusCode).toBe(400);
    expect(await h.getTask(org.admin, t.id)).toEqual(t);
  });
});

test('a terminal task may still be renamed, and stays terminal', async () => {
  const t = await h.createTask(org.admin);
  await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`, {});
  const res = await patch(t.id, { title: 'post-mortem' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ status: 'canceled', title: 'post-mortem', version: 3 });
});
