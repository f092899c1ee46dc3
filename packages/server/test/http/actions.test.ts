/**
 * POST /v1/tasks/{taskId}/{action} and DELETE (SPEC §3, §4): each action from a status where the
 * table allows it, and from one where it does not (409 INVALID_TRANSITION, the task unchanged).
 * States a client cannot reach yet (in_progress, needs_review, completed, failed) are reached
 * through the service's own transition function with worker events.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type WireTask } from '../helpers/http-harness.js';

type State =
  | 'backlog'
  | 'queued'
  | 'blocked_manual'
  | 'blocked_deps'
  | 'in_progress'
  | 'needs_review'
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'archived';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness();
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const act = (id: string, action: string, body: unknown = {}) =>
  h.call(org.admin, 'POST', `/v1/tasks/${id}/${action}`, body);

/** A task in `state`, reached the way the lifecycle reaches it. */
async function taskIn(state: State): Promise<WireTask> {
  const claim = (id: string) =>
    h.drive(org.orgId, id, { name: 'claim', leaseId: `lease-${id}`, workerId: 'worker-1', leaseMs: 60_000 });
  switch (state) {
    case 'backlog':
      return h.createTask(org.admin, { type: 'x', start: false });
    case 'queued':
      return h.createTask(org.admin, { type: 'x' });
    case 'blocked_manual': {
      const t = await h.createTask(org.admin, { type: 'x' });
      expect((await act(t.id, 'block', { reason: 'waiting for legal' })).statusCode).toBe(200);
      break;
    }
    case 'blocked_deps': {
      const dep = await h.createTask(org.admin, { type: 'dep' });
      return h.createTask(org.admin, { type: 'x', dependsOn: [dep.id] });
    }
    case 'in_progress': {
      const t = await h.createTask(org.admin, { type: 'x' });
      await claim(t.id);
      break;
    }
    case 'needs_review': {
      const t = await h.createTask(org.admin, { type: 'x', requiresReview: true });
      await claim(t.id);
      await h.drive(org.orgId, t.id, { name: 'complete', result: { draft: 1 } });
      break;
    }
    case 'completed': {
      const t = await h.createTask(org.admin, { type: 'x' });
      await claim(t.id);
      await h.drive(org.orgId, t.id, { name: 'complete', result: { ok: true } });
      break;
    }
    case 'failed': {
      const t = await h.createTask(org.admin, { type: 'x' });
      await claim(t.id);
      await h.drive(org.orgId, t.id, { name: 'fail', error: { message: 'boom' }, retryable: false });
      break;
    }
    case 'canceled': {
      const t = await h.createTask(org.admin, { type: 'x' });
      expect((await act(t.id, 'cancel')).statusCode).toBe(200);
      break;
    }
    case 'archived': {
      const t = await h.createTask(org.admin, { type: 'x' });
      expect((await act(t.id, 'archive')).statusCode).toBe(200);
      break;
    }
  }
  // The newest task of the org is the one just made.
  const newest = (await h.listAll(org.admin))[0];
  if (newest === undefined) throw new Error('no task');
  const t = await h.getTask(org.admin, newest.id);
  const expected = state === 'blocked_manual' ? 'blocked' : state === 'archived' ? 'queued' : state;
  expect(t.status).toBe(expected);
  return t;
}

describe('legal actions', () => {
  const legal: Array<[string, State, Record<string, unknown>, Partial<WireTask>]> = [
    ['start', 'backlog', {}, { status: 'queued' }],
    ['cancel', 'queued', {}, { status: 'canceled' }],
    ['cancel', 'backlog', {}, { status: 'canceled' }],
    ['cancel', 'blocked_deps', {}, { status: 'canceled', blockedBy: [] }],
    ['cancel', 'in_progress', {}, { status: 'canceled', lease: null }],
    ['cancel', 'needs_review', {}, { status: 'canceled' }],
    ['retry', 'canceled', {}, { status: 'queued', completedAt: null, expiresAt: null }],
    ['retry', 'failed', {}, { status: 'queued', completedAt: null, expiresAt: null }],
    ['block', 'queued', { reason: 'legal review' }, { status: 'blocked', blockedReason: 'legal review' }],
    ['block', 'backlog', {}, { status: 'blocked' }],
    ['block', 'in_progress', { reason: 'stop' }, { status: 'blocked', lease: null }],
    ['unblock', 'blocked_manual', {}, { status: 'queued', blockedReason: null }],
    ['approve', 'needs_review', {}, { status: 'completed' }],
    ['reject', 'needs_review', { reason: 'not good' }, { status: 'failed' }],
    ['reject', 'needs_review', { requeue: true, reason: 'again' }, { status: 'queued' }],
    ['archive', 'queued', {}, { status: 'queued' }],
    ['archive', 'completed', {}, { status: 'completed' }],
    ['unarchive', 'archived', {}, { status: 'queued', archivedAt: null }],
  ];

  test.each(legal)('%s from %s', async (action, state, body, expected) => {
    const before = await taskIn(state);
    const res = await act(before.id, action, body);
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json<WireTask>();
    expect(after).toMatchObject({ id: before.id, version: before.version + 1, ...expected });
    expect(res.headers.etag).toBe(`"${after.version}"`);
    expect(await h.getTask(org.admin, before.id)).toEqual(after);
  });

  test('the timestamps follow: completedAt and expiresAt on cancel, blockedAt on block, archivedAt on archive', async () => {
    const t = await taskIn('queued');
    const canceled = (await act(t.id, 'cancel')).json<WireTask>();
    expect(canceled.completedAt).toEqual(expect.any(String));
    expect(Date.parse(canceled.expiresAt ?? '')).toBeGreaterThan(Date.parse(canceled.completedAt ?? ''));
    const b = await taskIn('queued');
    expect((await act(b.id, 'block')).json<WireTask>().blockedAt).toEqual(expect.any(String));
    const a = await taskIn('queued');
    expect((await act(a.id, 'archive')).json<WireTask>().archivedAt).toEqual(expect.any(String));
  });

  test('reject without requeue fails the task with REJECTED', async () => {
    const t = await taskIn('needs_review');
    const res = await act(t.id, 'reject', { reason: 'wrong answer' });
    expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'REJECTED', retryable: false } });
  });

  test('a reason given to cancel is kept as a step', async () => {
    const t = await taskIn('queued');
    const res = await act(t.id, 'cancel', { reason: 'no longer needed' });
    const steps = res.json<WireTask>().steps;
    expect(steps.map((s) => s.message).join('\n')).toContain('no longer needed');
  });

  test('the body is optional: no body and no Content-Type at all', async () => {
    const t = await taskIn('queued');
    const res = await h.call(org.admin, 'POST', `/v1/tasks/${t.id}/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'canceled' });
  });

  test('an action on a blocked task that is canceled cascades to its dependents', async () => {
    const mid = await taskIn('blocked_deps');
    const leaf = await h.createTask(org.admin, { type: 'leaf', dependsOn: [mid.id] });
    expect((await act(mid.id, 'cancel')).statusCode).toBe(200);
    expect(await h.getTask(org.admin, leaf.id)).toMatchObject({
      status: 'canceled',
      error: { code: 'DEPENDENCY_FAILED' },
    });
  });
});

describe('illegal actions are 409 INVALID_TRANSITION and change nothing', () => {
  const illegal: Array<[string, State]> = [
    ['start', 'queued'],
    ['start', 'blocked_manual'],
    ['start', 'canceled'],
    ['start', 'in_progress'],
    ['cancel', 'canceled'],
    ['cancel', 'completed'],
    ['cancel', 'failed'],
    ['retry', 'queued'],
    ['retry', 'backlog'],
    ['retry', 'completed'],
    ['retry', 'in_progress'],
    ['block', 'canceled'],
    ['block', 'completed'],
    ['unblock', 'queued'],
    ['unblock', 'blocked_deps'],
    ['unblock', 'canceled'],
    ['approve', 'queued'],
    ['approve', 'in_progress'],
    ['approve', 'completed'],
    ['reject', 'queued'],
    ['reject', 'in_progress'],
    ['reject', 'failed'],
    ['archive', 'archived'],
    ['unarchive', 'queued'],
  ];

  test.each(illegal)('%s from %s', async (action, state) => {
    const before = await taskIn(state);
    const res = await act(before.id, action, action === 'reject' ? { reason: 'x' } : {});
    expect(res.statusCode, res.body).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
    expect(await h.getTask(org.admin, before.id)).toEqual(before);
  });

  test('an unknown action is refused and changes nothing', async () => {
    const before = await taskIn('queued');
    const res = await act(before.id, 'explode');
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(await h.getTask(org.admin, before.id)).toEqual(before);
  });

  test('an action body with an unknown field is 400 and changes nothing', async () => {
    const before = await taskIn('queued');
    const res = await act(before.id, 'cancel', { reason: 'x', force: true });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path)).toContain('/force');
    expect(await h.getTask(org.admin, before.id)).toEqual(before);
  });
});

describe('archive', () => {
  test('hides the task from lists unless archived=true; GET by id still answers', async () => {
    const kept = await taskIn('queued');
    const archived = await taskIn('archived');
    const listed = async (q: string) =>
      (await h.call(org.admin, 'GET', `/v1/tasks${q}`)).json<{ items: WireTask[] }>().items.map((t) => t.id);
    expect(await listed('')).toEqual([kept.id]);
    expect(await listed('?archived=false')).toEqual([kept.id]);
    expect(await listed('?archived=true')).toContain(archived.id);
    expect((await h.getTask(org.admin, archived.id)).archivedAt).toEqual(expect.any(String));
  });
});

describe('DELETE', () => {
  test.each([['backlog'], ['queued'], ['blocked_manual'], ['blocked_deps'], ['in_progress'], ['needs_review']] as Array<
    [State]
  >)('an active task (%s) is 409 and stays', async (state) => {
    const before = await taskIn(state);
    const res = await h.call(org.admin, 'DELETE', `/v1/tasks/${before.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await h.getTask(org.admin, before.id)).toEqual(before);
  });

  test.each([['completed'], ['failed'], ['canceled']] as Array<[State]>)(
    'a terminal task (%s) is deleted: 204, then 404 everywhere',
    async (state) => {
      const t = await taskIn(state);
      const res = await h.call(org.admin, 'DELETE', `/v1/tasks/${t.id}`);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      for (const [method, path] of [
        ['GET', `/v1/tasks/${t.id}`],
        ['GET', `/v1/tasks/${t.id}/steps`],
        ['DELETE', `/v1/tasks/${t.id}`],
        ['PATCH', `/v1/tasks/${t.id}`],
        ['POST', `/v1/tasks/${t.id}/retry`],
      ] as const) {
        const r = await h.call(
          org.admin,
          method,
          path,
          method === 'PATCH' ? { title: 'x' } : method === 'POST' ? {} : undefined,
        );
        expect(r.statusCode, `${method} ${path}`).toBe(404);
        expect(r.json(), `${method} ${path}`).toMatchObject({ code: 'NOT_FOUND' });
      }
      expect((await h.listAll(org.admin)).map((x) => x.id)).not.toContain(t.id);
    },
  );

  test('a terminal task that an active task still depends on is 409', async () => {
    const dep = await taskIn('queued');
    const dependent = await h.createTask(org.admin, { type: 'y', dependsOn: [dep.id], onDependencyFailure: 'run' });
    expect((await act(dep.id, 'cancel')).statusCode).toBe(200);
    expect((await h.getTask(org.admin, dependent.id)).status).toBe('queued');
    const res = await h.call(org.admin, 'DELETE', `/v1/tasks/${dep.id}`);
    expect(res.statusCode).toBe(409);
    expect((await h.getTask(org.admin, dep.id)).status).toBe('canceled');
    // Once the dependent is done too, the dependency may go.
    expect((await act(dependent.id, 'cancel')).statusCode).toBe(200);
    expect((await h.call(org.admin, 'DELETE', `/v1/tasks/${dep.id}`)).statusCode).toBe(204);
  });
});
