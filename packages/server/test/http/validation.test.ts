/**
 * What POST /v1/tasks refuses (SPEC §2, §4, §8): unknown fields, wrong types (bodies are never
 * coerced), every limit, oversized and malformed bodies. Each refusal leaves no task behind; each
 * limit is also checked at its edge, where the request must pass.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type Response } from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness();
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

/** `n` levels of nested arrays: [[[…]]]. */
const nested = (n: number): unknown => {
  let v: unknown = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
};
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const labels = (n: number) => Array.from({ length: n }, (_, i) => `l${i}`);
/** A JSON string whose serialized form (with its quotes) is exactly `bytes` bytes. */
const jsonStringOfBytes = (bytes: number) => 'x'.repeat(bytes - 2);
const KIB_256 = 256 * 1024;

async function expectNoTasks(): Promise<void> {
  const res = await h.call(org.admin, 'GET', '/v1/tasks?limit=200');
  expect(res.statusCode).toBe(200);
  expect(res.json<{ items: unknown[] }>().items).toEqual([]);
}

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.statusCode, res.body.slice(0, 500)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, code });
}

const paths = (res: Response): string[] =>
  (res.json<{ errors?: Array<{ path: string }> }>().errors ?? []).map((e) => e.path);

describe('a field a client may not set is 400 VALIDATION_FAILED naming it', () => {
  test.each([['status'], ['progress'], ['attempt'], ['orgId'], ['foo'], ['id'], ['version'], ['result'], ['lease']])(
    '%s',
    async (field) => {
      const res = await h.call(org.admin, 'POST', '/v1/tasks', {
        type: 'x',
        [field]: field === 'status' ? 'completed' : 1,
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(paths(res)).toContain(`/${field}`);
      await expectNoTasks();
    },
  );

  test('in a nested object too (retryPolicy)', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', retryPolicy: { delayMs: 5, boom: true } });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(paths(res)).toContain('/retryPolicy/boom');
    await expectNoTasks();
  });
});

describe('wrong types are refused, never coerced', () => {
  test.each([
    ['priority', '5'],
    ['priority', 1.5],
    ['maxRetries', '3'],
    ['requiresReview', 'true'],
    ['start', 'false'],
    ['delayMs', '1000'],
    ['labels', 'a'],
    ['metadata', []],
    ['metadata', 'x'],
    ['title', 5],
    ['type', 5],
    ['dependsOn', 'x'],
    ['onDependencyFailure', 'ignore'],
    ['runAt', 'tomorrow'],
    ['delayMs', -1],
  ] as const)('%s = %j', async (field, value) => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', [field]: value });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(paths(res).some((p) => p.startsWith(`/${field}`))).toBe(true);
    await expectNoTasks();
  });

  test('type is required', async () => {
    expectProblem(await h.call(org.admin, 'POST', '/v1/tasks', { title: 'no type' }), 400, 'VALIDATION_FAILED');
    await expectNoTasks();
  });

  test.each([['[]'], ['"a string"'], ['42'], ['null']])('a body that is not an object: %s', async (raw) => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', raw);
    expect(res.statusCode).toBe(400);
    await expectNoTasks();
  });
});

describe('limits: one past the limit is refused, the limit itself passes', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
    ['title 500 chars', { title: 'x'.repeat(500) }, { title: 'x'.repeat(501) }, '/title'],
    [
      'description 20,000 chars',
      { description: 'x'.repeat(20_000) },
      { description: 'x'.repeat(20_001) },
      '/description',
    ],
    ['priority 1000', { priority: 1000 }, { priority: 1001 }, '/priority'],
    ['priority -1000', { priority: -1000 }, { priority: -1001 }, '/priority'],
    ['64 metadata keys', { metadata: keys(64) }, { metadata: keys(65) }, '/metadata'],
    ['32 labels', { labels: labels(32) }, { labels: labels(33) }, '/labels'],
    ['type of 128 chars', { type: 't'.repeat(128) }, { type: 't'.repeat(129) }, '/type'],
    ['type of [A-Za-z0-9._:/-]', { type: 'a.B-9_c:d/e' }, { type: 'has space' }, '/type'],
  ];
  test.each(cases)('%s', async (_name, ok, tooMuch, path) => {
    const refused = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', ...tooMuch });
    expectProblem(refused, 400, 'VALIDATION_FAILED');
    expect(paths(refused)).toContain(path);
    await expectNoTasks();
    expect((await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', ...ok })).statusCode).toBe(201);
  });

  test('an empty type is refused', async () => {
    expectProblem(await h.call(org.admin, 'POST', '/v1/tasks', { type: '' }), 400, 'VALIDATION_FAILED');
    await expectNoTasks();
  });

  test('input over 256 KiB is 413 PAYLOAD_TOO_LARGE; exactly 256 KiB passes', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', input: jsonStringOfBytes(KIB_256 + 1) });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(paths(res)).toContain('/input');
    await expectNoTasks();
    expect(
      (await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', input: jsonStringOfBytes(KIB_256) })).statusCode,
    ).toBe(201);
  });

  test('a body over 1 MiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ type: 'x', metadata: { a: 'x'.repeat(600_000), b: 'y'.repeat(600_000) } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    expectProblem(await h.call(org.admin, 'POST', '/v1/tasks', body), 413, 'PAYLOAD_TOO_LARGE');
    await expectNoTasks();
  });

  test('JSON nested 33 deep is 400; 32 deep passes', async () => {
    // The body object is level 1, so input holds the other 32 (or 31) levels.
    const deep = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', input: nested(32) });
    expect(deep.statusCode).toBe(400);
    expect(deep.headers['content-type']).toMatch(/^application\/problem\+json/);
    await expectNoTasks();
    expect((await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', input: nested(31) })).statusCode).toBe(201);
  });

  test('a very deep body (100,000 levels) is refused without crashing the server', async () => {
    const raw = `{"type":"x","input":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await h.call(org.admin, 'POST', '/v1/tasks', raw);
    expect(res.statusCode).toBe(400);
    await expectNoTasks();
    expect((await h.call(null, 'GET', '/healthz')).statusCode).toBe(200);
  });
});

describe('bodies that are not JSON objects we accept', () => {
  test('malformed JSON is 400 MALFORMED_JSON', async () => {
    for (const raw of ['{"type":', '{type: "x"}', "{'type':'x'}", '{"type":"x",}']) {
      expectProblem(await h.call(org.admin, 'POST', '/v1/tasks', raw), 400, 'MALFORMED_JSON');
    }
    await expectNoTasks();
  });

  test('a text/plain body is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', JSON.stringify({ type: 'x' }), {
      'content-type': 'text/plain',
    });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNoTasks();
  });

  test('a form body is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', 'type=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNoTasks();
  });

  test.each([
    ['at the top', '{"type":"x","__proto__":{"polluted":true}}'],
    ['in metadata', '{"type":"x","metadata":{"__proto__":{"polluted":true}}}'],
    ['in input', '{"type":"x","input":{"a":[{"__proto__":{"polluted":true}}]}}'],
    ['constructor.prototype', '{"type":"x","input":{"constructor":{"prototype":{"polluted":true}}}}'],
  ])('a __proto__ key %s is 400 and pollutes nothing', async (_where, raw) => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', raw);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectNoTasks();
  });

  test('an empty body with Content-Type: application/json is 400 (type is required)', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', '', { 'content-type': 'application/json' });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    await expectNoTasks();
  });
});

describe('JSON content types clients send are accepted', () => {
  test('application/json; charset=utf-8 (what many HTTP clients send) creates the task', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', JSON.stringify({ type: 'x' }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.statusCode, res.body).toBe(201);
  });

  test('APPLICATION/JSON in upper case creates the task', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', JSON.stringify({ type: 'x' }), {
      'content-type': 'APPLICATION/JSON',
    });
    expect(res.statusCode, res.body).toBe(201);
  });
});
