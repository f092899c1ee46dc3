/**
 * Orkes Conductor at /compat/conductor/api (seed 002), over HTTP: the GET answer has every field of the
 * seed's example with its JSON type for a task in every native status; SPEC §11's Conductor map row by
 * row (FAILED, FAILED_WITH_TERMINAL_ERROR, TIMED_OUT); X-Authorization and POST /token; the worker
 * protocol (poll, batch poll, TaskResult updates, logs); errors and tenant isolation.
 * (conductor-sdk.test.ts runs the real SDK against the same routes.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, missingUuid, type Harness, type Response } from '../helpers/http-harness.js';
import { CASES, tasksInEveryStatus, type Case, type Fixture } from './helpers/fixtures.js';
import { jsonExample, makeValidator, schemaFromExample, seedText } from './helpers/seeds.js';

const BASE = '/compat/conductor/api';
// inputData and outputData are the task's data maps (any keys); every other object is recursed.
const validTask = makeValidator().compile(
  schemaFromExample(jsonExample(seedText('002')), new Set(['inputData', 'outputData'])),
);

/** SPEC §11, with the failure variants told apart by the task's last error. */
const EXPECTED: Record<Case, string> = {
  backlog: 'SCHEDULED',
  blocked_by_dependency: 'SCHEDULED',
  blocked_manually: 'SCHEDULED',
  queued: 'SCHEDULED',
  in_progress: 'IN_PROGRESS',
  needs_review: 'IN_PROGRESS',
  completed: 'COMPLETED',
  failed_terminal: 'FAILED_WITH_TERMINAL_ERROR',
  failed_retries_spent: 'FAILED',
  failed_timed_out: 'TIMED_OUT',
  canceled: 'CANCELED',
  archived: 'COMPLETED',
};

type ConductorTask = Record<string, unknown> & { taskId: string; status: string };

let h: Harness;
let fx: Record<Case, Fixture>;
let worker: { id: string; secret: string };
beforeAll(async () => {
  h = await makeHarness();
  fx = await tasksInEveryStatus(h, h.a.admin, h.a.orgId);
  worker = await h.createKey(h.a.admin, ['tasks:read', 'tasks:work'], { name: 'conductor-worker' });
});
afterAll(() => h.cleanup());

/** A request the way Conductor clients send it: `X-Authorization: <token>`. */
const call = (token: string | null, method: 'GET' | 'POST', url: string, body?: unknown) =>
  h.app.inject({
    method,
    url: `${BASE}${url}`,
    headers: {
      ...(token === null ? {} : { 'x-authorization': token }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

function expectError(res: Response, status: number, code?: string): { message: string; code: string } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{
    status: number;
    code: string;
    message: string;
    instance: string;
    retryable: boolean;
    validationErrors?: Array<{ path: string; message: string }>;
  }>();
  const { validationErrors, ...rest } = body;
  expect(rest).toEqual({
    status,
    code: expect.any(String),
    message: expect.any(String),
    instance: 'tasklane',
    retryable: expect.any(Boolean),
  });
  // Conductor's ErrorResponse lists field errors, when there are some, and leaves the field out otherwise.
  if (validationErrors !== undefined) {
    expect(validationErrors.length).toBeGreaterThan(0);
    for (const e of validationErrors) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}

async function newTask(type: string, body: Record<string, unknown> = {}) {
  return h.createTask(h.a.admin, { type, input: { n: 1 }, ...body });
}

async function pollOne(type: string, workerId = 'w-1'): Promise<ConductorTask> {
  const res = await call(worker.secret, 'GET', `/tasks/poll/${type}?workerid=${workerId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<ConductorTask>();
}

describe('GET /tasks/{taskId}', () => {
  test.each(CASES)('%s: every field of the seed example, status mapped', async (c) => {
    const res = await call(h.a.admin, 'GET', `/tasks/${fx[c].id}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<ConductorTask>();
    expect(validTask(body), JSON.stringify(validTask.errors)).toBe(true);
    expect(body.status).toBe(EXPECTED[c]);
    expect(body.taskId).toBe(fx[c].id);
  });

  test('ms timestamps, inputData, outputData, list as workflow, reasonForIncompletion', async () => {
    const done = (await call(h.a.admin, 'GET', `/tasks/${fx.completed.id}`)).json<ConductorTask>();
    expect(done).toMatchObject({
      taskType: 'fx.completed',
      taskDefName: 'fx.completed',
      inputData: { prompt: 'Do the completed thing' },
      outputData: { ok: true },
      pollCount: 1,
      startTime: Date.parse(fx.completed.task.startedAt ?? ''),
      endTime: Date.parse(fx.completed.task.completedAt ?? ''),
      updateTime: Date.parse(fx.completed.task.updatedAt),
      workflowInstanceId: fx.completed.id,
      executed: true,
    });
    expect((await call(h.a.admin, 'GET', `/tasks/${fx.in_progress.id}`)).json()).toMatchObject({
      workflowInstanceId: 'list-1',
      workerId: 'worker-in_progress',
      endTime: 0,
      responseTimeoutSeconds: 30,
    });
    expect((await call(h.a.admin, 'GET', `/tasks/${fx.failed_terminal.id}`)).json()).toMatchObject({
      reasonForIncompletion: 'No such target.',
    });
    expect((await call(h.a.admin, 'GET', `/tasks/${fx.archived.id}`)).json()).toMatchObject({
      outputData: { value: 42 },
    });
  });
});

describe('authentication', () => {
  test('X-Authorization with a bare token or a bearer; Authorization: Bearer too', async () => {
    const url = `${BASE}/tasks/${fx.queued.id}`;
    for (const headers of [
      { 'x-authorization': h.a.admin },
      { 'x-authorization': `Bearer ${h.a.admin}` },
      { authorization: `Bearer ${h.a.admin}` },
    ]) {
      expect((await h.app.inject({ method: 'GET', url, headers })).statusCode).toBe(200);
    }
  });

  test('POST /token: a key id and its secret give a token that X-Authorization takes', async () => {
    const res = await call(null, 'POST', '/token', { keyId: worker.id, keySecret: worker.secret });
    expect(res.statusCode, res.body).toBe(200);
    const { token } = res.json<{ token: string }>();
    expect((await call(token, 'GET', `/tasks/${fx.queued.id}`)).statusCode).toBe(200);
    expectError(await call(null, 'POST', '/token', { keyId: 'key_other', keySecret: worker.secret }), 401);
    expectError(await call(null, 'POST', '/token', { keyId: worker.id, keySecret: `tl_${'q'.repeat(40)}` }), 401);
    expectError(await call(null, 'POST', '/token', { keyId: worker.id }), 400);
  });

  test('a revoked key’s token stops working at once', async () => {
    const key = await h.createKey(h.a.admin, ['tasks:read']);
    const { token } = (await call(null, 'POST', '/token', { keyId: key.id, keySecret: key.secret })).json<{
      token: string;
    }>();
    expect((await call(token, 'GET', `/tasks/${fx.queued.id}`)).statusCode).toBe(200);
    expect((await h.call(h.a.admin, 'DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(204);
    expectError(await call(token, 'GET', `/tasks/${fx.queued.id}`), 401, 'UNAUTHORIZED');
  });

  test('401 without a token; 403 without the scope (a reader cannot poll)', async () => {
    expectError(await call(null, 'GET', `/tasks/${fx.queued.id}`), 401);
    const reader = await h.createKey(h.a.admin, ['tasks:read']);
    expectError(await call(reader.secret, 'GET', '/tasks/poll/anything'), 403, 'FORBIDDEN');
    expectError(await call(reader.secret, 'POST', '/tasks', { taskId: fx.queued.id, status: 'COMPLETED' }), 403);
  });
});

describe('the worker protocol', () => {
  test('poll: 204 when nothing is queued, else the task, now IN_PROGRESS for that worker', async () => {
    expect((await call(worker.secret, 'GET', '/tasks/poll/cd.empty')).statusCode).toBe(204);
    const created = await newTask('cd.poll');
    const polled = await pollOne('cd.poll', 'w-poll');
    expect(validTask(polled)).toBe(true);
    expect(polled).toMatchObject({
      taskId: created.id,
      status: 'IN_PROGRESS',
      pollCount: 1,
      workerId: 'w-poll',
      inputData: { n: 1 },
    });
    expect((await call(worker.secret, 'GET', '/tasks/poll/cd.poll')).statusCode).toBe(204);
    expectError(await call(worker.secret, 'GET', '/tasks/poll/bad%20type'), 400);
  });

  test('batch poll: up to count tasks; an empty list after timeout; held until a task comes', async () => {
    for (let i = 0; i < 3; i++) await newTask('cd.batch');
    const res = await call(worker.secret, 'GET', '/tasks/poll/batch/cd.batch?count=2&timeout=100&workerid=w-b');
    expect(res.statusCode).toBe(200);
    const batch = res.json<ConductorTask[]>();
    expect(batch).toHaveLength(2);
    for (const t of batch) expect(validTask(t)).toBe(true);
    expect((await call(worker.secret, 'GET', '/tasks/poll/batch/cd.batch?count=5&timeout=0')).json()).toHaveLength(1);
    const started = Date.now();
    expect((await call(worker.secret, 'GET', '/tasks/poll/batch/cd.batch?count=1&timeout=150')).json()).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const held = call(worker.secret, 'GET', '/tasks/poll/batch/cd.later?count=1&timeout=10000&workerid=w-l');
    const later = await newTask('cd.later');
    const got = (await held).json<ConductorTask[]>();
    expect(got.map((t) => t.taskId)).toEqual([later.id]);
    expect(Date.now() - started).toBeLessThan(9000);
  });

  test('POST /tasks COMPLETED: outputData is the result, logs are steps; the answer is the task id', async () => {
    const created = await newTask('cd.complete');
    await pollOne('cd.complete', 'w-c');
    const res = await call(worker.secret, 'POST', '/tasks', {
      taskId: created.id,
      workflowInstanceId: created.id,
      workerId: 'w-c',
      status: 'COMPLETED',
      outputData: { greeting: 'Hello' },
      logs: [{ log: 'starting', createdTime: Date.now(), taskId: created.id }, { log: 'done' }],
      extraConductorField: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe(created.id);
    const native = await h.getTask(h.a.admin, created.id);
    expect(native).toMatchObject({ status: 'completed', result: { greeting: 'Hello' } });
    expect(native.steps.map((s) => s.message)).toEqual(['starting', 'done']);
    const logs = (await call(worker.secret, 'GET', `/tasks/${created.id}/log`)).json<
      Array<{ log: string; taskId: string; createdTime: number }>
    >();
    expect(logs).toEqual([
      { log: 'starting', taskId: created.id, createdTime: expect.any(Number) },
      { log: 'done', taskId: created.id, createdTime: expect.any(Number) },
    ]);
  });

  test('update-v2 IN_PROGRESS with callbackAfterSeconds: back to SCHEDULED, due later; extendLease: a heartbeat', async () => {
    const created = await newTask('cd.callback');
    await pollOne('cd.callback', 'w-cb');
    let res = await call(worker.secret, 'POST', '/tasks/update-v2', {
      taskId: created.id,
      workerId: 'w-cb',
      status: 'IN_PROGRESS',
      extendLease: true,
      logs: [{ log: 'still here' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toBeNull();
    let native = await h.getTask(h.a.admin, created.id);
    expect(native).toMatchObject({ status: 'in_progress', steps: [{ message: 'still here' }] });
    res = await call(worker.secret, 'POST', '/tasks/update-v2', {
      taskId: created.id,
      workerId: 'w-cb',
      status: 'IN_PROGRESS',
      callbackAfterSeconds: 30,
    });
    expect(res.statusCode, res.body).toBe(200);
    native = await h.getTask(h.a.admin, created.id);
    expect(native).toMatchObject({ status: 'queued', attempt: 1, lease: null });
    expect(Date.parse(native.runAt ?? '') - Date.parse(native.queuedAt ?? '')).toBe(30_000);
    expect((await call(worker.secret, 'GET', `/tasks/${created.id}`)).json()).toMatchObject({
      status: 'SCHEDULED',
      callbackAfterSeconds: 30,
    });
    expect((await call(worker.secret, 'GET', '/tasks/poll/cd.callback')).statusCode).toBe(204);
  });

  test('FAILED is retried per policy; FAILED_WITH_TERMINAL_ERROR is final', async () => {
    const retried = await newTask('cd.fail', { retryPolicy: { strategy: 'fixed', delayMs: 0, jitter: 'none' } });
    await pollOne('cd.fail', 'w-f');
    await call(worker.secret, 'POST', '/tasks/update-v2', {
      taskId: retried.id,
      workerId: 'w-f',
      status: 'FAILED',
      reasonForIncompletion: 'Flaky',
    });
    expect(await h.getTask(h.a.admin, retried.id)).toMatchObject({
      status: 'queued',
      retryCount: 1,
      error: { message: 'Flaky', retryable: true },
    });
    const polledAgain = await pollOne('cd.fail', 'w-f');
    expect(polledAgain).toMatchObject({ taskId: retried.id, retryCount: 1, retried: true });
    await call(worker.secret, 'POST', '/tasks/update-v2', {
      taskId: retried.id,
      workerId: 'w-f',
      status: 'FAILED_WITH_TERMINAL_ERROR',
      reasonForIncompletion: 'Broken',
    });
    expect((await call(worker.secret, 'GET', `/tasks/${retried.id}`)).json()).toMatchObject({
      status: 'FAILED_WITH_TERMINAL_ERROR',
      reasonForIncompletion: 'Broken',
    });
  });

  test('an update from another worker is taken (it becomes the assignee); one on a task no longer in progress is ignored, as Conductor does; 400 for another status', async () => {
    const created = await newTask('cd.fence');
    await pollOne('cd.fence', 'w-owner');
    let res = await call(worker.secret, 'POST', '/tasks', {
      taskId: created.id,
      workerId: 'w-other',
      status: 'IN_PROGRESS',
      extendLease: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await h.getTask(h.a.admin, created.id)).toMatchObject({ status: 'in_progress', assignee: 'w-other' });
    expectError(await call(worker.secret, 'POST', '/tasks', { taskId: created.id, status: 'SKIPPED' }), 400);
    expect((await h.call(h.a.admin, 'POST', `/v1/tasks/${created.id}/cancel`, {})).statusCode).toBe(200);
    const canceled = await h.getTask(h.a.admin, created.id);
    res = await call(worker.secret, 'POST', '/tasks', {
      taskId: created.id,
      workerId: 'w-owner',
      status: 'COMPLETED',
      logs: [{ log: 'too late' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe(created.id);
    expect(await h.getTask(h.a.admin, created.id)).toEqual(canceled);
    const queued = await h.getTask(h.a.admin, fx.queued.id);
    res = await call(worker.secret, 'POST', '/tasks/update-v2', { taskId: fx.queued.id, status: 'COMPLETED' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await h.getTask(h.a.admin, fx.queued.id)).toEqual(queued);
  });

  test('logs: POST a line (JSON string) to a held task or, with tasks:write, to any; GET them back', async () => {
    const created = await newTask('cd.log');
    await pollOne('cd.log', 'w-log');
    expect((await call(worker.secret, 'POST', `/tasks/${created.id}/log`, 'Fetching page 1')).statusCode).toBe(200);
    expect((await call(worker.secret, 'GET', `/tasks/${created.id}/log`)).json()).toEqual([
      { log: 'Fetching page 1', taskId: created.id, createdTime: expect.any(Number) },
    ]);
    expectError(await call(worker.secret, 'POST', `/tasks/${fx.queued.id}/log`, 'not held'), 403);
    expect((await call(h.a.admin, 'POST', `/tasks/${fx.queued.id}/log`, 'a note')).statusCode).toBe(200);
    expectError(await call(worker.secret, 'POST', `/tasks/${created.id}/log`, ''), 400);
  });
});

describe('errors and isolation', () => {
  test('404 for a missing task and another org’s, alike, on every task route', async () => {
    const missing = expectError(await call(h.a.admin, 'GET', `/tasks/${missingUuid()}`), 404, 'NOT_FOUND');
    expect(expectError(await call(h.b.admin, 'GET', `/tasks/${fx.queued.id}`), 404)).toEqual(missing);
    expectError(await call(h.b.admin, 'GET', `/tasks/${fx.completed.id}/log`), 404);
    expectError(await call(h.b.admin, 'POST', `/tasks/${fx.queued.id}/log`, 'x'), 404);
    expectError(await call(h.b.admin, 'POST', '/tasks', { taskId: fx.in_progress.id, status: 'COMPLETED' }), 404);
    expectError(
      await call(h.b.admin, 'POST', '/tasks/update-v2', { taskId: fx.in_progress.id, status: 'FAILED' }),
      404,
    );
    expect((await h.getTask(h.a.admin, fx.in_progress.id)).status).toBe('in_progress');
    expectError(await call(h.a.admin, 'GET', '/workflow/123'), 404, 'ROUTE_NOT_FOUND');
  });

  test('another org’s worker never polls this org’s tasks', async () => {
    await newTask('cd.isolated');
    expect((await call(h.b.admin, 'GET', '/tasks/poll/cd.isolated')).statusCode).toBe(204);
    expect((await call(h.b.admin, 'GET', '/tasks/poll/batch/cd.isolated?count=10&timeout=0')).json()).toEqual([]);
    expect((await call(h.a.admin, 'GET', '/tasks/poll/cd.isolated')).statusCode).toBe(200);
  });

  test('503 (retryable) when storage is down; 500 with no internals for an unexpected failure', async () => {
    const created = await newTask('cd.boom');
    await pollOne('cd.boom', 'w-boom');
    h.failNextWrite(new Error('SQLITE_FULL: database or disk is full at /srv/tasklane.db'));
    const res = await call(worker.secret, 'POST', '/tasks', {
      taskId: created.id,
      workerId: 'w-boom',
      status: 'COMPLETED',
    });
    expect(expectError(res, 500, 'INTERNAL').message).toBe('Internal server error');
    expect(res.body).not.toMatch(/SQLITE|tasklane\.db/);
    const down = await makeHarness();
    try {
      await down.store.close();
      const r = await down.app.inject({
        method: 'GET',
        url: `${BASE}/tasks/poll/x`,
        headers: { 'x-authorization': down.a.admin },
      });
      expectError(r, 503, 'STORAGE_UNAVAILABLE');
      expect(r.json()).toMatchObject({ retryable: true });
    } finally {
      await down.cleanup();
    }
  });
});
