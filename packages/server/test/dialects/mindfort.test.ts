/**
 * MindFort at /compat/mindfort (seed 000): the GET answer validates against the seed's own
 * TaskResponse for a task in every native status, every row of SPEC §11's MindFort map holds, and every
 * code the seed documents (400, 401, 403, 429, 502) comes in MindFort's `{error, request_id}`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, missingUuid, type Harness, type Response } from '../helpers/http-harness.js';
import { CASES, tasksInEveryStatus, type Case, type Fixture } from './helpers/fixtures.js';
import { makeValidator, openApiSchemas, seedText } from './helpers/seeds.js';

const BASE = '/compat/mindfort';
const seed = openApiSchemas(seedText('000'));
const ajv = makeValidator();
// The seed lists both fields of TaskResponse and ErrorResponse; every answer carries both.
const required = (s: Record<string, unknown>) => ({ ...s, required: Object.keys(s.properties as object) });
const validTask = ajv.compile(required(seed.TaskResponse ?? {}));
const validError = ajv.compile(required(seed.ErrorResponse ?? {}));

/** SPEC §11: backlog/blocked/queued → queued, in_progress/needs_review → running, the rest as is. */
const EXPECTED: Record<Case, string> = {
  backlog: 'queued',
  blocked_by_dependency: 'queued',
  blocked_manually: 'queued',
  queued: 'queued',
  in_progress: 'running',
  needs_review: 'running',
  completed: 'completed',
  failed_terminal: 'failed',
  failed_retries_spent: 'failed',
  failed_timed_out: 'failed',
  canceled: 'canceled',
  archived: 'completed',
};

let h: Harness;
let fx: Record<Case, Fixture>;
beforeAll(async () => {
  h = await makeHarness();
  fx = await tasksInEveryStatus(h, h.a.admin, h.a.orgId);
});
afterAll(() => h.cleanup());

const scoped = (id: string, org = h.a.orgId) => `${org}::${id}`;
const get = (key: string | null, taskId: string) =>
  h.call(key, 'GET', `${BASE}/v1/tasks/${encodeURIComponent(taskId)}`);

function expectError(res: Response, status: number): { error: string; request_id: string } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ error: string; request_id: string }>();
  expect(validError(body), JSON.stringify(validError.errors)).toBe(true);
  expect(Object.keys(body).sort()).toEqual(['error', 'request_id']);
  expect(body.request_id).toBe(res.headers['x-request-id']);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return body;
}

describe('GET /v1/tasks/{org_id::task_uuid}', () => {
  test.each(CASES)('%s: validates against the seed and maps the status', async (c) => {
    const res = await get(h.a.admin, scoped(fx[c].id));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ task_id: string; status: string }>();
    expect(validTask(body), JSON.stringify(validTask.errors)).toBe(true);
    expect(body).toEqual({ task_id: scoped(fx[c].id), status: EXPECTED[c] });
  });

  test('a canceled task can be called something else (configurable)', async () => {
    const { dialectRoutes } = await import('../../src/http/dialects/index.js');
    const { makeAuthenticator } = await import('../../src/http/auth.js');
    const Fastify = (await import('fastify')).default;
    // The dialect plugin alone, with its option set, over the same services.
    const app = Fastify();
    await app.register(dialectRoutes, {
      services: h.services,
      authenticate: makeAuthenticator({ auth: h.services.auth, rateLimit: 0 }),
      mindfort: { canceledStatus: 'cancelled' },
    });
    const res = await app.inject({
      method: 'GET',
      url: `${BASE}/v1/tasks/${scoped(fx.canceled.id)}`,
      headers: { authorization: `Bearer ${h.a.admin}` },
    });
    expect(res.json()).toEqual({ task_id: scoped(fx.canceled.id), status: 'cancelled' });
    await app.close();
  });
});

describe('the seed documents codes', () => {
  test('400 for a malformed id: no ::, no uuid, an identifier, an empty org', async () => {
    for (const bad of [fx.queued.id, `${h.a.orgId}::not-a-uuid`, `${h.a.orgId}::OPS-1`, `::${fx.queued.id}`, 'x']) {
      const body = expectError(await get(h.a.admin, bad), 400);
      expect(body.error).toMatch(/org_id::task_uuid/);
    }
  });

  test('401 without a key, with a malformed key, with an unknown key', async () => {
    for (const key of [null, 'nope', `tl_${'x'.repeat(40)}`]) expectError(await get(key, scoped(fx.queued.id)), 401);
  });

  test('403 for a task that does not exist and for one of another org: the same answer', async () => {
    const missing = expectError(await get(h.a.admin, scoped(missingUuid())), 403);
    const foreignOrg = expectError(await get(h.b.admin, scoped(fx.queued.id, h.b.orgId)), 403);
    const foreignPrefix = expectError(await get(h.b.admin, scoped(fx.queued.id)), 403);
    expect(foreignOrg.error).toBe(missing.error);
    expect(foreignPrefix.error).toBe(missing.error);
  });

  test('403 for a key without the tasks:read scope', async () => {
    const worker = await h.createKey(h.a.admin, ['tasks:work']);
    expectError(await get(worker.secret, scoped(fx.queued.id)), 403);
  });

  test('429 with Retry-After when the key goes over its rate', async () => {
    const limited = await makeHarness({ rateLimit: 1 });
    try {
      const task = await limited.createTask(limited.a.admin);
      let res: Response | undefined;
      for (let i = 0; i < 10 && res?.statusCode !== 429; i++)
        res = await limited.call(limited.a.admin, 'GET', `${BASE}/v1/tasks/${limited.a.orgId}::${task.id}`);
      expectError(res as Response, 429);
      expect(Number((res as Response).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.cleanup();
    }
  });

  test('502 when storage is unavailable, without internals', async () => {
    const down = await makeHarness();
    try {
      const task = await down.createTask(down.a.admin);
      await down.store.close();
      const body = expectError(
        await down.call(down.a.admin, 'GET', `${BASE}/v1/tasks/${down.a.orgId}::${task.id}`),
        502,
      );
      expect(body.error).toBe('Tasks service unavailable');
    } finally {
      await down.cleanup();
    }
  });

  test('502 for an unexpected failure too (MindFort has no 500)', async () => {
    h.failNextWrite(new Error('SQLITE_CORRUPT at /work/data/tasklane.db'));
    const res = await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, { message: 'x', target_id: missingUuid() });
    const body = expectError(res, 502);
    expect(res.body).not.toMatch(/SQLITE|tasklane\.db/);
    expect(body.error).toBe('Tasks service unavailable');
  });

  test('an unknown route under the prefix answers in MindFort shape', async () => {
    expectError(await h.call(h.a.admin, 'GET', `${BASE}/v1/nothing`), 404);
  });
});

describe('POST /api/v1/tasks/run and POST /v1/tasks/{task_id}/cancel', () => {
  test('run starts a task: a scoped id that GET and the native API both know', async () => {
    const target = '3c90c3cc-0d44-4b50-8888-8dd25736052a';
    const res = await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, {
      message: 'Scan the login form\nthoroughly',
      target_id: target,
    });
    expect(res.statusCode, res.body).toBe(200);
    const started = res.json<{ task_id: string; status: string }>();
    expect(validTask(started)).toBe(true);
    expect(started.status).toBe('queued');
    const [org, id] = started.task_id.split('::');
    expect(org).toBe(h.a.orgId);
    const native = await h.getTask(h.a.admin, id ?? '');
    expect(native).toMatchObject({
      type: 'mindfort.task',
      title: 'Scan the login form',
      input: { message: 'Scan the login form\nthoroughly', target_id: target, task_model: 'MF1_FAST' },
    });
    expect((await get(h.a.admin, started.task_id)).json()).toEqual(started);
  });

  test('run refuses a body without message or with a bad target_id (400)', async () => {
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, { target_id: missingUuid() }), 400);
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, { message: 'x', target_id: 'nope' }), 400);
    expectError(
      await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, { message: 'x', target_id: missingUuid(), extra: 1 }),
      400,
    );
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/api/v1/tasks/run`, '{"message":'), 400);
  });

  test('run needs tasks:write (403)', async () => {
    const reader = await h.createKey(h.a.admin, ['tasks:read']);
    expectError(
      await h.call(reader.secret, 'POST', `${BASE}/api/v1/tasks/run`, { message: 'x', target_id: missingUuid() }),
      403,
    );
  });

  test('cancel cancels through the lifecycle; again is a no-op; a finished task cannot be canceled', async () => {
    const task = await h.createTask(h.a.admin);
    const res = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${scoped(task.id)}/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ task_id: scoped(task.id), status: 'canceled' });
    expect((await h.getTask(h.a.admin, task.id)).status).toBe('canceled');
    expect((await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${scoped(task.id)}/cancel`)).json()).toEqual({
      task_id: scoped(task.id),
      status: 'canceled',
    });
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${scoped(fx.completed.id)}/cancel`), 409);
  });

  test('cancel: 400 malformed, 403 missing or foreign, and the foreign task is untouched', async () => {
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/nope/cancel`), 400);
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${scoped(missingUuid())}/cancel`), 403);
    expectError(await h.call(h.b.admin, 'POST', `${BASE}/v1/tasks/${scoped(fx.queued.id)}/cancel`), 403);
    expectError(await h.call(h.b.admin, 'POST', `${BASE}/v1/tasks/${scoped(fx.queued.id, h.b.orgId)}/cancel`), 403);
    expect((await h.getTask(h.a.admin, fx.queued.id)).status).toBe('queued');
  });
});
