/**
 * Error answers (SPEC §9): every response carries X-Request-Id (echoed when the client sends a sane
 * one); every problem is application/problem+json with the catalogue shape and never a stack, a
 * file path or an internal message, 500s included.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, missingUuid, type Harness, type Problem, type Response } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'code', 'requestId', 'errors'];
/** Signs of internals leaking: stack frames, source files, module folders. */
const LEAKS = [/\n\s+at /, /\bat [\w.<>]+ \(/, /\.(ts|js|mjs|cjs):\d+/, /node_modules/, /\/work\//, /\bstack\b/i];

function expectCleanProblem(res: Response, status: number, what: string): Problem {
  expect(res.statusCode, what).toBe(status);
  expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
  const body = res.json<Problem>();
  expect(
    Object.keys(body).filter((k) => !PROBLEM_FIELDS.includes(k)),
    what,
  ).toEqual([]);
  expect(body, what).toMatchObject({
    status,
    code: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
  expect(body.requestId, what).toBe(res.headers['x-request-id']);
  for (const leak of LEAKS) expect(res.body, `${what}: ${leak}`).not.toMatch(leak);
  return body;
}

describe('every kind of error is a clean problem', () => {
  let task: string;
  let terminal: string;
  let readOnly: string;
  beforeAll(async () => {
    task = (await h.createTask(h.a.admin)).id;
    terminal = (await h.createTask(h.a.admin)).id;
    await h.call(h.a.admin, 'POST', `/v1/tasks/${terminal}/cancel`, {});
    readOnly = (await h.createKey(h.a.admin, ['tasks:read'])).secret;
  });

  const cases: Array<[string, number, string, () => Promise<Response>]> = [
    ['validation', 400, 'VALIDATION_FAILED', () => h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', foo: 1 })],
    ['malformed JSON', 400, 'MALFORMED_JSON', () => h.call(h.a.admin, 'POST', '/v1/tasks', '{"type":')],
    ['no key', 401, 'UNAUTHORIZED', () => h.call(null, 'GET', '/v1/tasks')],
    ['missing scope', 403, 'FORBIDDEN', () => h.call(readOnly, 'POST', '/v1/tasks', { type: 'x' })],
    ['missing task', 404, 'NOT_FOUND', () => h.call(h.a.admin, 'GET', `/v1/tasks/${missingUuid()}`)],
    ['no such route', 404, 'ROUTE_NOT_FOUND', () => h.call(h.a.admin, 'GET', '/v1/nothing-here')],
    ['no such route outside /v1', 404, 'ROUTE_NOT_FOUND', () => h.call(null, 'GET', '/wp-admin/setup.php')],
    [
      'invalid transition',
      409,
      'INVALID_TRANSITION',
      () => h.call(h.a.admin, 'POST', `/v1/tasks/${terminal}/cancel`, {}),
    ],
    [
      'stale If-Match',
      412,
      'PRECONDITION_FAILED',
      () => h.call(h.a.admin, 'PATCH', `/v1/tasks/${task}`, { title: 'x' }, { 'if-match': '"99"' }),
    ],
    [
      'body too large',
      413,
      'PAYLOAD_TOO_LARGE',
      () => h.call(h.a.admin, 'POST', '/v1/tasks', JSON.stringify({ type: 'x', description: 'x'.repeat(1_100_000) })),
    ],
    [
      'not JSON',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      () => h.call(h.a.admin, 'POST', '/v1/tasks', '<task/>', { 'content-type': 'application/xml' }),
    ],
    [
      'unknown dependency',
      422,
      'UNKNOWN_DEPENDENCY',
      () => h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x', dependsOn: [missingUuid()] }),
    ],
  ];

  test.each(cases)('%s → %i %s', async (what, status, code, send) => {
    const body = expectCleanProblem(await send(), status, what);
    expect(body.code).toBe(code);
  });

  test('a method a path does not serve is a clean 404 or 405 problem', async () => {
    const res = await h.call(h.a.admin, 'PUT', '/v1/tasks', { type: 'x' });
    expect([404, 405]).toContain(res.statusCode);
    const body = expectCleanProblem(res, res.statusCode, 'no such method');
    expect(['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED']).toContain(body.code);
  });

  test('an unexpected failure is a bare 500 INTERNAL: no message, no stack, no path', async () => {
    const err = new Error('SQLITE_CORRUPT: database disk image is malformed at /work/main/data/tasklane.db');
    err.stack = `${err.message}\n    at SqliteUnit.insertTasks (/work/main/packages/server/src/storage/sqlite/sqlite-store.ts:412:9)`;
    h.failNextWrite(err);
    const res = await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x' }, { 'x-request-id': 'trace-500' });
    const body = expectCleanProblem(res, 500, 'internal');
    expect(body.code).toBe('INTERNAL');
    expect(res.body).not.toContain('SQLITE_CORRUPT');
    expect(res.body).not.toContain('tasklane.db');
    expect(res.headers['x-request-id']).toBe('trace-500');
    expect(body.requestId).toBe('trace-500');
    // The server is fine afterwards.
    expect((await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x' })).statusCode).toBe(201);
  });

  test('a TypeError from deep inside is also a bare 500', async () => {
    h.failNextWrite(
      Object.assign(new TypeError("Cannot read properties of undefined (reading 'id')"), { code: 'ERR_SOMETHING' }),
    );
    const res = await h.call(h.a.admin, 'POST', `/v1/tasks/${task}/block`, {});
    const body = expectCleanProblem(res, 500, 'type error');
    expect(body.code).toBe('INTERNAL');
    expect(res.body).not.toContain('Cannot read properties');
  });
});

describe('X-Request-Id', () => {
  const sample = async (): Promise<Response[]> => {
    const t = await h.createTask(h.a.admin);
    return [
      await h.call(null, 'GET', '/healthz'),
      await h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x' }),
      await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}`),
      await h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'if-none-match': '"1"' }),
      await h.call(h.a.admin, 'GET', '/v1/tasks'),
      await h.call(h.a.admin, 'GET', '/v1/nowhere'),
      await h.call(null, 'GET', '/v1/tasks'),
      await h.call(h.a.admin, 'POST', '/v1/tasks', '{', {}),
      await h.call(null, 'GET', '/openapi.json'),
    ];
  };

  test('every response carries one, unique per request', async () => {
    const answers = await sample();
    const ids = answers.map((r) => r.headers['x-request-id']);
    for (const [i, id] of ids.entries())
      expect(id, `response ${i} (${answers[i]?.statusCode})`).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('a client-sent id is echoed, on success and on error', async () => {
    const t = await h.createTask(h.a.admin);
    const requests: Array<() => Promise<Response>> = [
      () => h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}`, undefined, { 'x-request-id': 'client-abc.123:x_y-z' }),
      () =>
        h.call(h.a.admin, 'GET', `/v1/tasks/${t.id}`, undefined, {
          'x-request-id': 'client-abc.123:x_y-z',
          'if-none-match': '"1"',
        }),
      () => h.call(h.a.admin, 'POST', '/v1/tasks', { type: 'x' }, { 'x-request-id': 'client-abc.123:x_y-z' }),
      () => h.call(null, 'GET', '/v1/tasks', undefined, { 'x-request-id': 'client-abc.123:x_y-z' }),
      () => h.call(h.a.admin, 'GET', '/v1/no-route', undefined, { 'x-request-id': 'client-abc.123:x_y-z' }),
      () => h.call(h.a.admin, 'POST', '/v1/tasks', 'nope', { 'x-request-id': 'client-abc.123:x_y-z' }),
    ];
    for (const send of requests) {
      const res = await send();
      expect(res.headers['x-request-id'], String(res.statusCode)).toBe('client-abc.123:x_y-z');
      if (res.statusCode >= 400) expect(res.json<Problem>().requestId).toBe('client-abc.123:x_y-z');
    }
  });

  test('a client id with unsafe characters or of excessive length is replaced by a fresh one', async () => {
    for (const given of ['has space', 'x'.repeat(129), '<script>', 'a\tb']) {
      const res = await h.call(null, 'GET', '/healthz', undefined, { 'x-request-id': given });
      expect(res.headers['x-request-id']).not.toBe(given);
      expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    }
  });
});
