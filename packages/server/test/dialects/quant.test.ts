/**
 * QuantCDN AI tasks at /compat/quant/api/v3 (seed 003): the GET answer validates against the seed's field
 * list (types, ms timestamps, progress ≤ 1, error a string or null, nothing else) for a task in every
 * native status; SPEC §11's Quant map row by row; the org in the path must be the key's; create, list,
 * PUT (status changes through the transition table; an agent takes a task) and DELETE (409 while active
 * tasks depend on it).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, missingUuid, type Harness, type Response } from '../helpers/http-harness.js';
import { CASES, tasksInEveryStatus, type Case, type Fixture } from './helpers/fixtures.js';
import { makeValidator, quantFieldSchema, seedText } from './helpers/seeds.js';

const { schema } = quantFieldSchema(seedText('003'));
const ajv = makeValidator();
const validTask = ajv.compile(schema);

/** SPEC §11: backlog/queued → pending, needs_review → in_progress, canceled → cancelled, the rest as is. */
const EXPECTED: Record<Case, string> = {
  backlog: 'pending',
  blocked_by_dependency: 'blocked',
  blocked_manually: 'blocked',
  queued: 'pending',
  in_progress: 'in_progress',
  needs_review: 'in_progress',
  completed: 'completed',
  failed_terminal: 'failed',
  failed_retries_spent: 'failed',
  failed_timed_out: 'failed',
  canceled: 'cancelled',
  archived: 'completed',
};

type QuantTask = Record<string, unknown> & { taskId: string; status: string };

let h: Harness;
let fx: Record<Case, Fixture>;
let agent: string;
beforeAll(async () => {
  h = await makeHarness();
  fx = await tasksInEveryStatus(h, h.a.admin, h.a.orgId);
  agent = (await h.createKey(h.a.admin, ['tasks:read', 'tasks:write', 'tasks:work'], { name: 'agent-key' })).secret;
});
afterAll(() => h.cleanup());

const base = (org = h.a.orgId) => `/compat/quant/api/v3/organizations/${org}/ai/tasks`;
const get = (key: string | null, id: string, org?: string) => h.call(key, 'GET', `${base(org)}/${id}`);
const put = (key: string, id: string, body: unknown) => h.call(key, 'PUT', `${base()}/${id}`, body);
const create = async (body: Record<string, unknown>) => {
  const res = await h.call(agent, 'POST', base(), body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ taskId: string; orgId: string; title: string; status: string; createdAt: number }>();
};
const read = async (id: string) => (await get(agent, id)).json<QuantTask>();

function expectError(res: Response, status: number, code?: string): { error: string; code: string } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ error: string; code: string }>();
  expect(body).toEqual({ error: expect.any(String), code: expect.any(String) });
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}

describe('GET …/ai/tasks/{taskId}', () => {
  test.each(CASES)('%s: validates against the seed fields, status mapped', async (c) => {
    const res = await get(h.a.admin, fx[c].id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<QuantTask>();
    expect(validTask(body), JSON.stringify(validTask.errors)).toBe(true);
    expect(body.status).toBe(EXPECTED[c]);
  });

  test('ms timestamps, error as a string, dependencies and blockers, progress', async () => {
    const blocked = (await get(h.a.admin, fx.blocked_by_dependency.id)).json<QuantTask>();
    expect(blocked.createdAt).toBe(Date.parse(fx.blocked_by_dependency.task.createdAt));
    expect(blocked.blockedByTaskIds).toEqual(fx.blocked_by_dependency.task.dependsOn);
    expect(blocked.dependsOn).toEqual(fx.blocked_by_dependency.task.dependsOn);
    expect(typeof blocked.blockedAt).toBe('number');
    expect((await get(h.a.admin, fx.failed_terminal.id)).json()).toMatchObject({
      error: 'No such target.',
      completedAt: expect.any(Number),
    });
    expect((await get(h.a.admin, fx.in_progress.id)).json()).toMatchObject({
      progress: 0.5,
      progressMessage: 'Halfway',
      taskListId: 'list-1',
      assignedAgentId: 'worker-in_progress',
      startedAt: expect.any(Number),
    });
    expect((await get(h.a.admin, fx.completed.id)).json()).toMatchObject({
      result: { ok: true },
      progress: 1,
      expiresAt: expect.any(Number),
    });
  });
});

describe('the organisation and the task must be the key’s', () => {
  test('another org in the path answers 404 on every route, and changes nothing', async () => {
    const id = fx.queued.id;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `${base(h.b.orgId)}/${id}`],
      ['GET', base(h.b.orgId)],
      ['POST', base(h.b.orgId), { title: 'x' }],
      ['PUT', `${base(h.b.orgId)}/${id}`, { status: 'cancelled' }],
      ['DELETE', `${base(h.b.orgId)}/${id}`],
      ['GET', `${base('no-such-org')}/${id}`],
    ];
    for (const [method, url, body] of routes) expectError(await h.call(h.a.admin, method as 'GET', url, body), 404);
    expect((await h.getTask(h.a.admin, id)).status).toBe('queued');
  });

  test('another org’s task through its own org path is the same 404 as a missing task', async () => {
    const missing = expectError(
      await h.call(h.b.admin, 'GET', `${base(h.b.orgId)}/${missingUuid()}`),
      404,
      'TASK_NOT_FOUND',
    );
    const foreign = expectError(
      await h.call(h.b.admin, 'GET', `${base(h.b.orgId)}/${fx.queued.id}`),
      404,
      'TASK_NOT_FOUND',
    );
    expect(foreign).toEqual(missing);
    expectError(await h.call(h.b.admin, 'PUT', `${base(h.b.orgId)}/${fx.queued.id}`, { status: 'cancelled' }), 404);
    expectError(await h.call(h.b.admin, 'DELETE', `${base(h.b.orgId)}/${fx.canceled.id}`), 404);
    const list = (await h.call(h.b.admin, 'GET', base(h.b.orgId))).json<{ tasks: QuantTask[] }>();
    expect(list.tasks.map((t) => t.taskId)).not.toContain(fx.queued.id);
    expect((await h.getTask(h.a.admin, fx.canceled.id)).status).toBe('canceled');
  });

  test('401 without a key, 403 without the scope, 500 when storage is down', async () => {
    expectError(await get(null, fx.queued.id), 401);
    const reader = await h.createKey(h.a.admin, ['tasks:read']);
    expectError(await h.call(reader.secret, 'POST', base(), { title: 'x' }), 403);
    const worker = await h.createKey(h.a.admin, ['tasks:work']);
    const t = await create({ title: 'Worker may not rename' });
    expectError(await put(worker.secret, t.taskId, { title: 'renamed' }), 403);
    // A PUT the key may not make in full changes nothing: not even the part it may make.
    await put(agent, t.taskId, { status: 'in_progress', assignedAgentId: 'agent-w' });
    expectError(await put(worker.secret, t.taskId, { status: 'completed', title: 'renamed' }), 403);
    expect(await read(t.taskId)).toMatchObject({ status: 'in_progress', title: 'Worker may not rename' });
    const writer = await h.createKey(h.a.admin, ['tasks:write']);
    const u = await create({ title: 'Writer may not take' });
    await put(agent, u.taskId, { status: 'blocked' });
    expectError(await put(writer.secret, u.taskId, { status: 'in_progress' }), 403);
    expect((await read(u.taskId)).status).toBe('blocked');
    const down = await makeHarness();
    try {
      const task = await down.createTask(down.a.admin);
      await down.store.close();
      expectError(
        await down.call(down.a.admin, 'GET', `/compat/quant/api/v3/organizations/${down.a.orgId}/ai/tasks/${task.id}`),
        500,
        'INTERNAL_ERROR',
      );
    } finally {
      await down.cleanup();
    }
  });
});

describe('create and list', () => {
  test('create: 201 with the seed’s fields; dependencies and blockers become dependsOn', async () => {
    const first = await create({
      title: 'Extract',
      taskListId: 'world-1',
      createdByAgentId: 'agent-coordinator',
      metadata: { priority: 'high' },
    });
    expect(first).toMatchObject({
      orgId: h.a.orgId,
      title: 'Extract',
      status: 'pending',
      createdAt: expect.any(Number),
    });
    const second = await create({
      title: 'Summarise',
      taskListId: 'world-1',
      dependsOn: [first.taskId.toUpperCase()],
      assignedAgentId: 'agent-writer',
    });
    expect(second.status).toBe('blocked');
    const t = await read(second.taskId);
    expect(validTask(t)).toBe(true);
    expect(t).toMatchObject({
      dependsOn: [first.taskId],
      blockedByTaskIds: [first.taskId],
      assignedAgentId: 'agent-writer',
      taskListId: 'world-1',
    });
    expect(await read(first.taskId)).toMatchObject({
      createdByAgentId: 'agent-coordinator',
      metadata: { priority: 'high' },
    });
    const blocked = await create({ title: 'Wait', status: 'blocked', blockedReason: 'Waiting for approval' });
    expect(blocked.status).toBe('blocked');
    expect(await read(blocked.taskId)).toMatchObject({ blockedReason: 'Waiting for approval' });
  });

  test('create: 400 for a missing title, an unknown field, a status other than pending/blocked, an unknown dependency', async () => {
    for (const body of [
      {},
      { title: 'x', foo: 1 },
      { title: 'x', status: 'completed' },
      { title: 'x', dependsOn: [missingUuid()] },
    ]) {
      expectError(await h.call(agent, 'POST', base(), body), 400);
    }
    // A dependency of another org is an unknown dependency.
    expectError(await h.call(h.b.admin, 'POST', base(h.b.orgId), { title: 'x', dependsOn: [fx.queued.id] }), 400);
  });

  test('list filters by taskListId, status and assignedAgentId, newest first, with a count', async () => {
    const a = await create({ title: 'L1', taskListId: 'list-q' });
    const b = await create({ title: 'L2', taskListId: 'list-q', assignedAgentId: 'agent-z' });
    const c = await create({ title: 'L3', taskListId: 'list-q', status: 'blocked' });
    const all = (await h.call(agent, 'GET', `${base()}?taskListId=list-q`)).json<{
      tasks: QuantTask[];
      count: number;
    }>();
    expect(all.tasks.map((t) => t.taskId)).toEqual([c.taskId, b.taskId, a.taskId]);
    expect(all.count).toBe(3);
    for (const t of all.tasks) expect(validTask(t), JSON.stringify(validTask.errors)).toBe(true);
    const pending = (await h.call(agent, 'GET', `${base()}?taskListId=list-q&status=pending`)).json<{
      tasks: QuantTask[];
    }>();
    expect(pending.tasks.map((t) => t.taskId)).toEqual([b.taskId, a.taskId]);
    const mine = (await h.call(agent, 'GET', `${base()}?assignedAgentId=agent-z`)).json<{ tasks: QuantTask[] }>();
    expect(mine.tasks.map((t) => t.taskId)).toEqual([b.taskId]);
    const one = (await h.call(agent, 'GET', `${base()}?taskListId=list-q&limit=1`)).json<{ count: number }>();
    expect(one.count).toBe(1);
    expectError(await h.call(agent, 'GET', `${base()}?status=done`), 400);
    expectError(await h.call(agent, 'GET', `${base()}?dependsOn=${a.taskId}`), 400);
  });
});

describe('PUT …/ai/tasks/{taskId}', () => {
  test('an agent takes a task (assignedAgentId + in_progress), reports progress, completes it with a result', async () => {
    const t = await create({ title: 'Work' });
    let res = await put(agent, t.taskId, { status: 'in_progress', assignedAgentId: 'agent-1' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ taskId: t.taskId, status: 'in_progress', updatedAt: expect.any(Number) });
    const native = await h.getTask(h.a.admin, t.taskId);
    expect(native).toMatchObject({
      status: 'in_progress',
      assignee: 'agent-1',
      attempt: 1,
      lease: { workerId: 'agent-1' },
    });
    // A Quant agent does not heartbeat: its claim holds an hour unless the task says otherwise.
    expect(Date.parse(native.lease?.expiresAt ?? '') - Date.now()).toBeGreaterThan(3000_000);

    expectError(await put(agent, t.taskId, { status: 'in_progress', assignedAgentId: 'agent-2' }), 409);
    res = await put(agent, t.taskId, { progress: 0.4, progressMessage: 'Reading' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await read(t.taskId)).toMatchObject({
      status: 'in_progress',
      progress: 0.4,
      progressMessage: 'Reading',
      startedAt: expect.any(Number),
    });
    expectError(await put(agent, t.taskId, { status: 'completed', assignedAgentId: 'agent-2' }), 409);
    res = await put(agent, t.taskId, { status: 'completed', result: { summary: 'done' }, assignedAgentId: 'agent-1' });
    expect(res.json()).toMatchObject({ status: 'completed' });
    expect(await read(t.taskId)).toMatchObject({
      status: 'completed',
      result: { summary: 'done' },
      completedAt: expect.any(Number),
      expiresAt: expect.any(Number),
    });
  });

  test('status changes go through the transition table: an illegal one is 409 and changes nothing', async () => {
    const t = await create({ title: 'Not started' });
    expectError(await put(agent, t.taskId, { status: 'completed' }), 409, 'INVALID_TRANSITION');
    expectError(await put(agent, t.taskId, { status: 'failed', error: 'nope' }), 409, 'INVALID_TRANSITION');
    expectError(await put(agent, t.taskId, { progress: 0.5 }), 409);
    expect((await read(t.taskId)).status).toBe('pending');
    expectError(await put(agent, fx.completed.id, { status: 'cancelled' }), 409, 'INVALID_TRANSITION');
    expectError(await put(agent, fx.blocked_by_dependency.id, { status: 'pending' }), 409, 'INVALID_TRANSITION');
  });

  test('failed (the agent’s word is final), pending again (retry), blocked and unblocked, cancelled', async () => {
    const t = await create({ title: 'Flaky' });
    await put(agent, t.taskId, { status: 'in_progress', assignedAgentId: 'agent-f' });
    let res = await put(agent, t.taskId, { status: 'failed', error: 'Upstream 500' });
    expect(res.json()).toMatchObject({ status: 'failed' });
    expect(await read(t.taskId)).toMatchObject({ status: 'failed', error: 'Upstream 500' });
    res = await put(agent, t.taskId, { status: 'pending' });
    expect(res.json()).toMatchObject({ status: 'pending' });
    res = await put(agent, t.taskId, { status: 'blocked', blockedReason: 'Needs a key' });
    expect(await read(t.taskId)).toMatchObject({
      status: 'blocked',
      blockedReason: 'Needs a key',
      blockedAt: expect.any(Number),
    });
    // blocked → in_progress: unblocked and taken in one PUT.
    res = await put(agent, t.taskId, { status: 'in_progress', assignedAgentId: 'agent-g' });
    expect(await read(t.taskId)).toMatchObject({
      status: 'in_progress',
      assignedAgentId: 'agent-g',
      blockedReason: null,
    });
    res = await put(agent, t.taskId, { status: 'pending' });
    expect(await read(t.taskId)).toMatchObject({ status: 'pending' });
    res = await put(agent, t.taskId, { status: 'cancelled' });
    expect(res.json()).toMatchObject({ status: 'cancelled' });
  });

  test('a task in review completes by approval; pending again by a requeue', async () => {
    const res = await put(h.a.admin, fx.needs_review.id, { status: 'completed' });
    expect(res.statusCode, res.body).toBe(200);
    expect((await h.getTask(h.a.admin, fx.needs_review.id)).status).toBe('completed');
  });

  test('title, description and metadata (replaced, not merged); fixed fields only repeat', async () => {
    const t = await create({ title: 'Old', metadata: { a: 1, b: 2 }, taskListId: 'fixed' });
    const res = await put(agent, t.taskId, {
      title: 'New',
      description: 'Details',
      metadata: { c: 3 },
      taskListId: 'fixed',
      maxRetries: 3,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await read(t.taskId)).toMatchObject({ title: 'New', description: 'Details', metadata: { c: 3 } });
    expect((await read(t.taskId)).metadata).toEqual({ c: 3 });
    for (const body of [
      { taskListId: 'other' },
      { dependsOn: [fx.queued.id] },
      { maxRetries: 9 },
      { retryCount: 2 },
      { foo: 1 },
      { result: {} },
      { error: 'x' },
    ]) {
      expectError(await put(agent, t.taskId, body), 400);
    }
  });

  test('reassigning a task no one holds patches its agent', async () => {
    const t = await create({ title: 'Assign me' });
    await put(agent, t.taskId, { assignedAgentId: 'agent-x' });
    expect(await read(t.taskId)).toMatchObject({ assignedAgentId: 'agent-x', status: 'pending' });
  });
});

describe('DELETE …/ai/tasks/{taskId}', () => {
  test('a settled task goes (then 404); an active one answers 409; cascade is refused', async () => {
    const busy = await create({ title: 'Busy' });
    expectError(await h.call(agent, 'DELETE', `${base()}/${busy.taskId}`), 409, 'INVALID_TRANSITION');
    await put(agent, busy.taskId, { status: 'cancelled' });
    const res = await h.call(agent, 'DELETE', `${base()}/${busy.taskId.toUpperCase()}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deleted: true, deletedCount: 1, deletedTaskIds: [busy.taskId] });
    expectError(await get(agent, busy.taskId), 404, 'TASK_NOT_FOUND');
    expectError(await h.call(agent, 'DELETE', `${base()}/${busy.taskId}`), 404, 'TASK_NOT_FOUND');
    expectError(await h.call(agent, 'DELETE', `${base()}/${fx.completed.id}?cascade=true`), 400);
  });

  test('409 TASK_HAS_DEPENDENTS while an active task depends on it', async () => {
    const first = await create({ title: 'First' });
    await put(agent, first.taskId, { status: 'in_progress', assignedAgentId: 'a' });
    // A dependent that runs whatever its dependency does: still active once the dependency failed.
    const dependent = await h.createTask(h.a.admin, {
      type: 'quant.task',
      dependsOn: [first.taskId],
      onDependencyFailure: 'run',
    });
    await put(agent, first.taskId, { status: 'failed', error: 'x' });
    expect((await read(dependent.id)).status).toBe('pending');
    const body = expectError(await h.call(agent, 'DELETE', `${base()}/${first.taskId}`), 409, 'TASK_HAS_DEPENDENTS');
    expect(body.error).toContain(dependent.id);
    expect((await read(first.taskId)).status).toBe('failed');
  });
});
