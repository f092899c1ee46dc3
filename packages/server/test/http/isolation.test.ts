/**
 * Tenant isolation (SPEC §1): an id of org B used with org A's key answers exactly like an id
 * that does not exist, on every task route; lists never show another org's tasks; dependencies,
 * projects, identifiers and keys of another org are unknown.
 */
import { TASK_ACTIONS } from '@tasklane/sdk/schemas';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  makeHarness,
  missingUuid,
  withoutRequestId,
  type Harness,
  type Response,
  type WireTask,
} from '../helpers/http-harness.js';

let h: Harness;
let foreign: WireTask;
let foreignInProject: WireTask;

beforeAll(async () => {
  h = await makeHarness();
  expect((await h.call(h.b.admin, 'POST', '/v1/projects', { key: 'BBB', name: 'B only' })).statusCode).toBe(201);
  foreign = await h.createTask(h.b.admin, {
    type: 'secret.job',
    listId: 'shared-list',
    labels: ['shared'],
    assignee: 'agent-x',
  });
  foreignInProject = await h.createTask(h.b.admin, { type: 'secret.job', projectId: 'BBB' });
  expect(foreignInProject.identifier).toBe('BBB-1');
});
afterAll(() => h.cleanup());

/** The same request on a foreign id and on a missing one; the answers must not be told apart. */
async function expectLikeMissing(method: string, path: (id: string) => string, body?: unknown): Promise<void> {
  const onForeign = await h.call(h.a.admin, method as 'GET', path(foreign.id), body);
  const onMissing = await h.call(h.a.admin, method as 'GET', path(missingUuid()), body);
  expect(onForeign.statusCode, `${method} ${path(':id')}`).toBe(onMissing.statusCode);
  expect(onForeign.statusCode).toBe(404);
  expect(normalizedHeaders(onForeign)).toEqual(normalizedHeaders(onMissing));
  if (method !== 'HEAD') expect(withoutRequestId(onForeign)).toEqual(withoutRequestId(onMissing));
}

function normalizedHeaders(res: Response): Record<string, unknown> {
  const { date: _d, 'x-request-id': _r, 'content-length': _l, ...rest } = res.headers;
  return rest;
}

describe("org B's task id with org A's key answers like a missing id", () => {
  test('GET', () => expectLikeMissing('GET', (id) => `/v1/tasks/${id}`));
  test('HEAD', () => expectLikeMissing('HEAD', (id) => `/v1/tasks/${id}`));
  test('GET ?wait', () => expectLikeMissing('GET', (id) => `/v1/tasks/${id}?wait=1`));
  test('PATCH', () => expectLikeMissing('PATCH', (id) => `/v1/tasks/${id}`, { title: 'stolen' }));
  test('DELETE', () => expectLikeMissing('DELETE', (id) => `/v1/tasks/${id}`));
  test('GET steps', () => expectLikeMissing('GET', (id) => `/v1/tasks/${id}/steps`));
  test('POST steps', () =>
    expectLikeMissing('POST', (id) => `/v1/tasks/${id}/steps`, { steps: [{ message: 'injected' }] }));
  test.each(TASK_ACTIONS.map((a) => [a]))('POST action %s', (action) =>
    expectLikeMissing('POST', (id) => `/v1/tasks/${id}/${action}`, action === 'reject' ? { reason: 'no' } : {}),
  );

  test("none of it changed org B's task", async () => {
    const now = await h.getTask(h.b.admin, foreign.id);
    expect(now.version).toBe(foreign.version);
    expect(now.status).toBe('queued');
    expect(now.title).toBe(foreign.title);
    expect(now.steps).toEqual([]);
    expect(now.archivedAt).toBeNull();
  });
});

test("org B's identifier with org A's key answers like a missing identifier", async () => {
  const onForeign = await h.call(h.a.admin, 'GET', '/v1/tasks/BBB-1');
  const onMissing = await h.call(h.a.admin, 'GET', '/v1/tasks/BBB-99');
  expect(onForeign.statusCode).toBe(404);
  expect(withoutRequestId(onForeign)).toEqual(withoutRequestId(onMissing));
  // Org B itself reads it by identifier.
  expect((await h.getTask(h.b.admin, 'BBB-1')).id).toBe(foreignInProject.id);
});

test("lists never show another org's tasks, whatever the filter", async () => {
  await h.createTask(h.a.admin, { type: 'mine' });
  const queries = [
    '',
    'type=secret.job',
    'listId=shared-list',
    'label=shared',
    'assignee=agent-x',
    'status=queued&status=in_progress',
    `projectId=${foreignInProject.projectId ?? ''}`,
    'projectId=BBB',
  ];
  for (const q of queries) {
    const all = await h.listAll(h.a.admin, q);
    expect(
      all.filter((t) => t.orgId !== 'default'),
      q,
    ).toEqual([]);
    expect(
      all.map((t) => t.id),
      q,
    ).not.toContain(foreign.id);
  }
  // And org B sees its own, but not org A's.
  const bs = await h.listAll(h.b.admin);
  expect(bs.map((t) => t.id).sort()).toEqual([foreign.id, foreignInProject.id].sort());
});

test('a cursor made in org B pages nothing of org B for org A', async () => {
  const page = await h.call(h.b.admin, 'GET', '/v1/tasks?limit=1');
  const cursor = page.json<{ nextCursor: string | null }>().nextCursor;
  expect(cursor).not.toBeNull();
  const res = await h.call(h.a.admin, 'GET', `/v1/tasks?cursor=${cursor ?? ''}`);
  expect(res.statusCode).toBe(200);
  for (const t of res.json<{ items: WireTask[] }>().items) expect(t.orgId).toBe('default');
});

describe("dependsOn naming org B's task is an unknown dependency", () => {
  async function compare(build: (dep: string) => { url: string; body: unknown }): Promise<void> {
    const onForeign = await h.call(h.a.admin, 'POST', build(foreign.id).url, build(foreign.id).body);
    const onMissing = await h.call(h.a.admin, 'POST', build(missingUuid()).url, build(missingUuid()).body);
    expect(onForeign.statusCode).toBe(422);
    expect(onForeign.json()).toMatchObject({ code: 'UNKNOWN_DEPENDENCY' });
    const scrub = (res: Response, id: string) =>
      JSON.parse(JSON.stringify(withoutRequestId(res)).replaceAll(id, '<id>')) as unknown;
    expect(scrub(onForeign, foreign.id)).toEqual(scrub(onMissing, missingUuid()));
  }

  test('POST /v1/tasks', () => compare((dep) => ({ url: '/v1/tasks', body: { type: 'x', dependsOn: [dep] } })));
  test('POST /v1/tasks/batch', () =>
    compare((dep) => ({ url: '/v1/tasks/batch', body: { tasks: [{ type: 'x' }, { type: 'y', dependsOn: [dep] }] } })));

  test("by identifier: org B's BBB-1 answers like a missing identifier", async () => {
    const onForeign = await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', dependsOn: ['BBB-1'] });
    const onMissing = await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', dependsOn: ['BBB-77'] });
    expect(onForeign.statusCode).toBe(onMissing.statusCode);
    expect(onForeign.statusCode).toBeGreaterThanOrEqual(400);
    const scrub = (res: Response, ref: string) => JSON.stringify(withoutRequestId(res)).replaceAll(ref, '<ref>');
    expect(scrub(onForeign, 'BBB-1')).toEqual(scrub(onMissing, 'BBB-77'));
    expect(onForeign.body).not.toContain(foreignInProject.id);
  });

  test('and nothing was created in either org', async () => {
    expect((await h.listAll(h.a.admin)).filter((t) => t.type === 'x' || t.type === 'y')).toEqual([]);
    expect(await h.listAll(h.b.admin)).toHaveLength(2);
  });
});

test("org B's project is unknown to org A, by key and by id", async () => {
  const bProject = (await h.call(h.b.admin, 'GET', '/v1/projects/BBB')).json<{ id: string }>();
  for (const ref of ['BBB', bProject.id]) {
    const res = await h.call(h.a.admin, 'GET', `/v1/projects/${ref}`);
    expect(res.statusCode, ref).toBe(404);
    const create = await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', projectId: ref });
    const missing = await h.call(h.a.admin, 'POST', '/v1/tasks', {
      type: 'x',
      projectId: ref === 'BBB' ? 'ZZZ' : missingUuid(),
    });
    expect(create.statusCode, ref).toBe(missing.statusCode);
    expect(create.statusCode, ref).toBeGreaterThanOrEqual(400);
  }
  const list = (await h.call(h.a.admin, 'GET', '/v1/projects')).json<{ items: Array<{ key: string }> }>();
  expect(list.items.map((p) => p.key)).not.toContain('BBB');
  // Org A may have its own BBB: project keys are per org.
  expect((await h.call(h.a.admin, 'POST', '/v1/projects', { key: 'BBB', name: 'A too' })).statusCode).toBe(201);
  const mine = await h.createTask(h.a.admin, { type: 'x', projectId: 'BBB' });
  expect(mine.identifier).toBe('BBB-1');
  expect((await h.getTask(h.a.admin, 'BBB-1')).id).toBe(mine.id);
  expect((await h.getTask(h.b.admin, 'BBB-1')).id).toBe(foreignInProject.id);
});

test("org A cannot see or revoke org B's keys", async () => {
  const bKey = await h.createKey(h.b.admin, ['tasks:read'], { name: 'b-reader' });
  const aKeys = (await h.call(h.a.admin, 'GET', '/v1/keys')).json<{ items: Array<{ id: string; name: string }> }>();
  expect(aKeys.items.map((k) => k.id)).not.toContain(bKey.id);
  const revoke = await h.call(h.a.admin, 'DELETE', `/v1/keys/${bKey.id}`);
  const missing = await h.call(h.a.admin, 'DELETE', '/v1/keys/key_doesnotexist000');
  expect(revoke.statusCode).toBe(404);
  expect(withoutRequestId(revoke)).toEqual(withoutRequestId(missing));
  expect((await h.call(bKey.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
});

describe('the worker API never reaches another org', () => {
  let held: WireTask;
  let leaseId: string;

  beforeAll(async () => {
    // A task of org B held by org B's worker: its lease id is known (to the attacker too, in this test).
    held = await h.createTask(h.b.admin, { type: 'b.only' });
    const claim = await h.call(h.b.admin, 'POST', `/v1/tasks/${held.id}/claim`, { workerId: 'b-worker' });
    expect(claim.statusCode, claim.body).toBe(200);
    leaseId = claim.json<WireTask>().lease?.id ?? '';
    expect(leaseId).not.toBe('');
  });

  async function likeMissing(path: (id: string) => string, body: (id: string) => unknown): Promise<void> {
    const onForeign = await h.call(h.a.admin, 'POST', path(held.id), body(held.id));
    const onMissing = await h.call(h.a.admin, 'POST', path(missingUuid()), body(missingUuid()));
    expect(onForeign.statusCode, onForeign.body).toBe(onMissing.statusCode);
    expect(onForeign.statusCode).toBe(404);
    expect(withoutRequestId(onForeign)).toEqual(withoutRequestId(onMissing));
  }

  test('claim by id', () =>
    likeMissing(
      (id) => `/v1/tasks/${id}/claim`,
      () => ({ workerId: 'a-worker' }),
    ));
  test('heartbeat, even with the right lease id', () =>
    likeMissing(
      (id) => `/v1/tasks/${id}/heartbeat`,
      () => ({ leaseId, progress: 0.5 }),
    ));
  test('complete, even with the right lease id', () =>
    likeMissing(
      (id) => `/v1/tasks/${id}/complete`,
      () => ({ leaseId, result: 'pwned' }),
    ));
  test('fail, even with the right lease id', () =>
    likeMissing(
      (id) => `/v1/tasks/${id}/fail`,
      () => ({ leaseId, error: { message: 'pwned' }, retryable: false }),
    ));
  test('release, even with the right lease id', () =>
    likeMissing(
      (id) => `/v1/tasks/${id}/release`,
      () => ({ leaseId }),
    ));

  test('reports: each item answers like one for a missing task', async () => {
    const report = (taskId: string) => ({ reports: [{ taskId, action: 'complete', leaseId, result: 'pwned' }] });
    const onForeign = await h.call(h.a.admin, 'POST', '/v1/tasks/reports', report(held.id));
    const onMissing = await h.call(h.a.admin, 'POST', '/v1/tasks/reports', report(missingUuid()));
    expect(onForeign.statusCode).toBe(onMissing.statusCode);
    type Results = { results: Array<{ taskId: string; ok: boolean; error?: unknown }> };
    const strip = (r: Results) => r.results.map(({ taskId: _t, ...rest }) => rest);
    expect(strip(onForeign.json<Results>())).toEqual(strip(onMissing.json<Results>()));
    expect(onForeign.json<Results>().results[0]?.ok).toBe(false);
  });

  test("org B's held task is untouched", async () => {
    const now = await h.getTask(h.b.admin, held.id);
    expect(now).toMatchObject({ status: 'in_progress', version: 2, progress: null, result: null, error: null });
  });

  test("claiming by type never hands out org B's tasks", async () => {
    const queued = await h.createTask(h.b.admin, { type: 'b.queue' });
    const res = await h.call(h.a.admin, 'POST', '/v1/tasks/claim', {
      types: ['b.queue', 'secret.job'],
      workerId: 'a-worker',
      limit: 100,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ tasks: WireTask[] }>().tasks).toEqual([]);
    expect((await h.getTask(h.b.admin, queued.id)).status).toBe('queued');
  });
});

describe('lists, stats and types are per org', () => {
  test("a list id used in org B shows nothing of org B's to org A", async () => {
    const onShared = await h.call(h.a.admin, 'GET', '/v1/lists/shared-list');
    const onUnused = await h.call(h.a.admin, 'GET', '/v1/lists/never-used-list');
    expect(onShared.statusCode).toBe(onUnused.statusCode);
    expect(onShared.body).not.toContain(foreign.id);
    if (onShared.statusCode === 200) {
      const { listId: _a, ...shared } = onShared.json<{ listId: string }>();
      const { listId: _b, ...unused } = onUnused.json<{ listId: string }>();
      expect(shared).toEqual(unused);
    }
    const theirs = await h.call(h.b.admin, 'GET', '/v1/lists/shared-list');
    expect(theirs.statusCode).toBe(200);
    expect(theirs.body).toContain(foreign.id);
  });

  test("stats count only the org's own tasks", async () => {
    const fresh = await h.newOrg();
    await h.createTask(fresh.admin, { type: 'mine' });
    const stats = (await h.call(fresh.admin, 'GET', '/v1/stats')).json<{
      total: number;
      byType: Record<string, unknown>;
    }>();
    expect(stats.total).toBe(1);
    expect(Object.keys(stats.byType)).toEqual(['mine']);
  });

  test("org B's type settings are unknown to org A", async () => {
    expect((await h.call(h.b.admin, 'PUT', '/v1/types/b.tuned', { concurrency: 3 })).statusCode).toBe(200);
    const onForeign = await h.call(h.a.admin, 'GET', '/v1/types/b.tuned');
    const onUnused = await h.call(h.a.admin, 'GET', '/v1/types/never.tuned');
    expect(onForeign.statusCode).toBe(onUnused.statusCode);
    expect(onForeign.statusCode).toBe(404);
    const scrub = (res: Response, type: string) => JSON.stringify(withoutRequestId(res)).replaceAll(type, '<type>');
    expect(scrub(onForeign, 'b.tuned')).toEqual(scrub(onUnused, 'never.tuned'));
    const listed = (await h.call(h.a.admin, 'GET', '/v1/types')).json<{ items: Array<{ type: string }> }>();
    expect(listed.items.map((t) => t.type)).not.toContain('b.tuned');
  });
});
