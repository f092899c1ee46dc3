/**
 * Errors that Fastify or Node raise before a route runs go through the catalogue like any other
 * (SPEC §9): a path that does not decode or is too long, on every native route with a path parameter;
 * a method a path does not take (405 with Allow); a request Node's parser refuses or that never
 * finishes. Before, these answered Fastify's own `{"error":"Bad Request","code":"FST_ERR_BAD_URL",…}`,
 * a bare 414 or 408, or nothing at all (a body that never finished held its connection forever).
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listRoutes, makeHarness, type Harness, type Problem, type Response } from '../helpers/http-harness.js';
import { edgeBackends, type EdgeApp } from './edge-backends.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

function expectProblem(res: Response, status: number, code: string): Problem {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).not.toMatch(/FST_ERR|"error":"Bad Request"/);
  const body = res.json<Problem>();
  expect(body).toMatchObject({ status, code });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

/** Every native `METHOD /path` with a `:parameter`, HEAD aside (it has no body to check). */
const nativeParamRoutes = (): Array<[string, string]> =>
  listRoutes(h.app)
    .map((r) => r.split(' ') as [string, string])
    .filter(([method, path]) => method !== 'HEAD' && path.includes('/:') && !path.startsWith('/compat/'));

/** The route's URL with `param` replaced by `value` and every other parameter by a plain one. */
const urlWith = (path: string, param: string, value: string): string =>
  path.replace(/:(\w+)/g, (_m, name: string) => (name === param ? value : 'x1'));

describe('a path parameter that is not valid text, on every native route that has one', () => {
  test('there are such routes to check', () => {
    expect(nativeParamRoutes().length).toBeGreaterThan(10);
  });

  test.each([
    ['an encoded lone surrogate', '%ED%A0%80', 400, 'VALIDATION_FAILED', 'is not valid percent-encoded UTF-8'],
    ['a broken escape', '%ZZ', 400, 'VALIDATION_FAILED', 'is not valid percent-encoded UTF-8'],
    ['NUL', 'a%00b', 400, 'VALIDATION_FAILED', 'contains the NUL character (\\u0000)'],
    ['201 characters', 'a'.repeat(201), 414, 'URI_TOO_LONG', 'is longer than 200 characters'],
  ])('%s is a problem naming the parameter', async (_what, value, status, code, message) => {
    for (const [method, path] of nativeParamRoutes()) {
      for (const param of [...path.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '')) {
        const url = urlWith(path, param, value);
        const res = await h.call(h.rootKey, method as 'GET', url, method === 'GET' ? undefined : {}, {
          'x-request-id': 'edge-1',
        });
        const body = expectProblem(res, status, code);
        expect(body.errors, `${method} ${url}`).toEqual([{ path: `params/${param}`, message }]);
        expect(res.headers['x-request-id']).toBe('edge-1');
      }
    }
  });

  test('a bad segment where no route has a parameter is the route miss it would be', async () => {
    expectProblem(await h.call(h.a.admin, 'GET', '/v1/ta%ZZsks'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await h.call(h.a.admin, 'GET', '/nowhere/%ED%A0%80'), 404, 'ROUTE_NOT_FOUND');
  });

  test('answered before authentication, as a URL the router cannot take is', async () => {
    expectProblem(await h.call(null, 'GET', '/v1/tasks/%ED%A0%80'), 400, 'VALIDATION_FAILED');
    expectProblem(await h.call(null, 'GET', '/v1/tasks/%00'), 400, 'VALIDATION_FAILED');
  });
});

describe('a method the path does not take is 405 METHOD_NOT_ALLOWED with Allow', () => {
  test.each([
    ['PROPFIND', '/v1/tasks', 'GET, HEAD, POST'],
    ['DELETE', '/v1/tasks', 'GET, HEAD, POST'],
    ['OPTIONS', '/v1/tasks', 'GET, HEAD, POST'],
    ['PUT', '/v1/tasks/01900000-0000-7000-8000-000000000000', 'GET, HEAD, DELETE, PATCH'],
    ['POST', '/v1/tasks/OPS-1', 'GET, HEAD, DELETE, PATCH'],
  ])('%s %s', async (method, url, allow) => {
    const res = await h.call(h.a.admin, method as 'GET', url);
    const body = expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe(allow);
    expect(body.detail).toContain(allow);
  });

  test('a path no route has is 404 ROUTE_NOT_FOUND, whatever the method', async () => {
    for (const method of ['GET', 'PROPFIND', 'DELETE']) {
      expectProblem(await h.call(h.a.admin, method as 'GET', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
    }
  });

  test('a route miss wins over what its body did (not MALFORMED_JSON, not 415)', async () => {
    expectProblem(await h.call(h.a.admin, 'POST', '/v1/nothing-here', '{"a":'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await h.call(h.a.admin, 'DELETE', '/v1/tasks', '{"a":'), 405, 'METHOD_NOT_ALLOWED');
    const res = await h.call(h.a.admin, 'PUT', '/v1/tasks', 'x', { 'content-type': 'text/plain' });
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('validator words a client cannot act on are rewritten', () => {
  test('an unknown action names the actions that exist', async () => {
    const task = await h.createTask(h.a.admin);
    const res = await h.call(h.a.admin, 'POST', `/v1/tasks/${task.id}/frobnicate`, {});
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    const actions = 'start, cancel, retry, block, unblock, approve, reject, archive, unarchive';
    expect(body.errors).toEqual([{ path: 'params/action', message: `must be one of: ${actions}` }]);
    expect(body.detail).toBe(`params/action must be one of: ${actions}`);
    expect(res.body).not.toMatch(/constant|anyOf/);
  });

  test('so does a status filter that is not a status', async () => {
    const body = expectProblem(await h.call(h.a.admin, 'GET', '/v1/tasks?status=bogus'), 400, 'VALIDATION_FAILED');
    expect(body.errors?.[0]?.message).toMatch(/^must be one of: backlog, blocked, queued, /);
  });
});

/** One HTTP/1.1 exchange on a fresh connection, the bytes sent as given; resolves when the server closes. */
function exchange(
  port: number,
  bytes: string | Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

describe('requests Node refuses or that never finish, on a listening server', () => {
  const [sqlite] = edgeBackends('framework-errors');
  let e: EdgeApp;
  let port: number;
  beforeAll(async () => {
    if (sqlite === undefined) throw new Error('no backend');
    e = await sqlite.open({ requestTimeoutMs: 300 });
    await e.app.listen({ host: '127.0.0.1', port: 0 });
    port = (e.app.server.address() as AddressInfo).port;
  });
  afterAll(() => e.cleanup());

  const problemOf = (r: { status: number; headers: Record<string, string>; body: string }) => {
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(r.body) as Problem;
    expect(body.status).toBe(r.status);
    expect(body.requestId).toBe(r.headers['x-request-id']);
    return body;
  };

  test('a body that stops midway is 408 REQUEST_TIMEOUT, and the connection is closed', async () => {
    const res = await exchange(
      port,
      'POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n' +
        `Authorization: Bearer ${e.key}\r\nX-Request-Id: slow-1\r\n\r\n{"type":`,
    );
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe('close');
    expect(problemOf(res)).toMatchObject({ code: 'REQUEST_TIMEOUT', requestId: 'slow-1' });
  });

  test('headers that never end are 408 too', async () => {
    const res = await exchange(port, 'GET /v1/tasks HTTP/1.1\r\nHost: x\r\n');
    expect(res.status).toBe(408);
    expect(problemOf(res).code).toBe('REQUEST_TIMEOUT');
  });

  test('a long-poll that outlasts the request timeout is answered normally', async () => {
    const task = (await e.call('POST', '/v1/tasks', { type: 'edge.poll' })).json<{ id: string; version: number }>();
    const res = await fetch(`http://127.0.0.1:${port}/v1/tasks/${task.id}?wait=1`, {
      headers: { authorization: `Bearer ${e.key}`, 'if-none-match': `"${task.version}"` },
    });
    expect(res.status).toBe(304);
  });

  test('a method token Node does not know: 405 with Allow where the path exists, else 404', async () => {
    const known = await exchange(port, 'FROB /v1/tasks HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(known.status).toBe(405);
    expect(known.headers.allow).toBe('GET, HEAD, POST');
    expect(problemOf(known).code).toBe('METHOD_NOT_ALLOWED');
    const unknown = await exchange(port, 'FROB /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknown.status).toBe(404);
    expect(problemOf(unknown).code).toBe('ROUTE_NOT_FOUND');
  });

  test('a request line and headers over 16 KiB are 431 HEADERS_TOO_LARGE', async () => {
    const res = await exchange(port, `GET /v1/tasks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(problemOf(res).code).toBe('HEADERS_TOO_LARGE');
  });

  test.each([
    ['a raw NUL in the path', Buffer.from('GET /v1/tasks/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
    [
      'raw non-ASCII bytes in the path',
      Buffer.from('GET /v1/tasks/\u00c3\u00a9 HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    ],
    ['a control character in a header', 'GET /v1/tasks HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'],
  ])('%s is 400 VALIDATION_FAILED', async (_what, bytes) => {
    const res = await exchange(port, bytes);
    expect(res.status).toBe(400);
    expect(problemOf(res)).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('the server still answers afterwards', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
