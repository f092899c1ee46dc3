/**
 * Hedera Guardian at /compat/guardian (seed 004): the GET answer validates against the seed's field
 * table (every field, no other; steps shaped like the seed's example) for a task in every native status;
 * `done` is "terminal" (SPEC §11); the seed's 401 and 500, and 403/404 in the same NestJS shape.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TERMINAL_STATUSES } from '../../src/domain/status.js';
import { makeHarness, missingUuid, type Harness, type Response } from '../helpers/http-harness.js';
import { CASES, CASE_STATUS, tasksInEveryStatus, type Case, type Fixture } from './helpers/fixtures.js';
import { jsonExample, makeValidator, markdownFieldSchema, seedText } from './helpers/seeds.js';

const BASE = '/compat/guardian';
const text = seedText('004');
const example = jsonExample(text) as Record<string, unknown>;
const ajv = makeValidator();
const validTask = ajv.compile(markdownFieldSchema(text, '| Field', example));

let h: Harness;
let fx: Record<Case, Fixture>;
beforeAll(async () => {
  h = await makeHarness();
  fx = await tasksInEveryStatus(h, h.a.admin, h.a.orgId);
});
afterAll(() => h.cleanup());

const get = (key: string | null, id: string) => h.call(key, 'GET', `${BASE}/tasks/${id}`);

function expectError(res: Response, status: number): { statusCode: number; message: string } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ statusCode: number; message: string; error: string }>();
  expect(body).toEqual({ statusCode: status, message: expect.any(String), error: expect.any(String) });
  return body;
}

describe('GET /tasks/{taskId}', () => {
  test.each(CASES)('%s: validates against the seed table; done = terminal', async (c) => {
    const res = await get(h.a.admin, fx[c].id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      taskId: string;
      action: string;
      done: boolean;
      error: unknown;
      result: unknown;
      steps: unknown[];
    }>();
    expect(validTask(body), JSON.stringify(validTask.errors)).toBe(true);
    expect(body.done).toBe((TERMINAL_STATUSES as readonly string[]).includes(CASE_STATUS[c]));
    expect(body.taskId).toBe(fx[c].id);
    expect(body.action).toBe(fx[c].task.title);
  });

  test('steps keep time and message only; result and error are objects (a scalar result is wrapped)', async () => {
    const done = (await get(h.a.admin, fx.completed.id)).json<{ steps: unknown[]; result: unknown; error: unknown }>();
    expect(done.steps).toEqual([{ time: expect.stringMatching(/Z$/), message: 'Policy created' }]);
    expect(done.result).toEqual({ ok: true });
    expect(done.error).toBeNull();
    expect((await get(h.a.admin, fx.archived.id)).json()).toMatchObject({ result: { value: 42 } });
    expect((await get(h.a.admin, fx.failed_terminal.id)).json()).toMatchObject({
      done: true,
      result: null,
      error: { code: 'BAD_INPUT', message: 'No such target.', retryable: false },
    });
    expect((await get(h.a.admin, fx.queued.id)).json()).toMatchObject({
      done: false,
      error: null,
      result: null,
      steps: [],
    });
  });
});

describe('errors', () => {
  test('401 (seed) without a key or with a bad one', async () => {
    for (const key of [null, 'token', `tl_${'z'.repeat(40)}`]) expectError(await get(key, fx.queued.id), 401);
  });

  test('500 (seed) when storage is unavailable, with no internals', async () => {
    const down = await makeHarness();
    try {
      const t = await down.createTask(down.a.admin);
      await down.store.close();
      const body = expectError(await down.call(down.a.admin, 'GET', `${BASE}/tasks/${t.id}`), 500);
      expect(body.message).toBe('Internal server error');
    } finally {
      await down.cleanup();
    }
  });

  test('404 for a missing task and for another org’s task, alike; 403 without the scope', async () => {
    const missing = expectError(await get(h.a.admin, missingUuid()), 404);
    expect(expectError(await get(h.b.admin, fx.queued.id), 404)).toEqual(missing);
    expect(expectError(await get(h.a.admin, 'not-a-task'), 404)).toEqual(missing);
    const worker = await h.createKey(h.a.admin, ['tasks:work']);
    expectError(await get(worker.secret, fx.queued.id), 403);
    expectError(await h.call(h.a.admin, 'GET', `${BASE}/policies`), 404);
  });
});
