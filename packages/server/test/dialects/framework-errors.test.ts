/**
 * Under each dialect's prefix, errors raised before a route runs and the input rules answer in the
 * product's error shape and status (docs/dialects.md), never Fastify's own body and never
 * problem+json: a path parameter that does not decode, holds NUL or is too long, on every dialect
 * route that has one; a route miss whatever the method; bodies the input rules refuse (on SQLite and
 * PostgreSQL, where such a body used to reach storage: stored on one, 500 on the other); a request
 * that never finishes.
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listRoutes, makeHarness, type Harness, type Response } from '../helpers/http-harness.js';
import { edgeBackends, type EdgeApp } from '../http/edge-backends.js';

type Code = 'VALIDATION_FAILED' | 'URI_TOO_LONG' | 'ROUTE_NOT_FOUND' | 'REQUEST_TIMEOUT';

/** Each product: its status for the catalogue codes checked here, and a check of its error shape. */
interface Product {
  prefix: string;
  status: Record<Code, number>;
  /** The body's human text, after checking the body is this product's error shape. */
  text: (body: unknown, res: Response) => string;
}

const PRODUCTS: Record<string, Product> = {
  mindfort: {
    prefix: '/compat/mindfort',
    // MindFort's client errors are 400 (a missing task is its 403; a route miss stays 404).
    status: { VALIDATION_FAILED: 400, URI_TOO_LONG: 400, ROUTE_NOT_FOUND: 404, REQUEST_TIMEOUT: 408 },
    text: (body, res) => {
      expect(body).toEqual({ error: expect.any(String), request_id: res.headers['x-request-id'] });
      return (body as { error: string }).error;
    },
  },
  capy: {
    prefix: '/compat/capy',
    // Capy: any client error it does not document is its 422.
    status: { VALIDATION_FAILED: 422, URI_TOO_LONG: 422, ROUTE_NOT_FOUND: 404, REQUEST_TIMEOUT: 422 },
    text: (body) => {
      expect(body).toEqual({
        error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) },
      });
      const { message, details } = (body as { error: { message: string; details: unknown } }).error;
      return `${message} ${JSON.stringify(details)}`;
    },
  },
  conductor: {
    prefix: '/compat/conductor/api',
    status: { VALIDATION_FAILED: 400, URI_TOO_LONG: 414, ROUTE_NOT_FOUND: 404, REQUEST_TIMEOUT: 408 },
    text: (body, res) => {
      expect(body).toMatchObject({ status: res.statusCode, code: expect.any(String), instance: 'tasklane' });
      return (body as { message: string }).message;
    },
  },
  quant: {
    prefix: '/compat/quant/api/v3',
    status: { VALIDATION_FAILED: 400, URI_TOO_LONG: 414, ROUTE_NOT_FOUND: 404, REQUEST_TIMEOUT: 408 },
    text: (body) => {
      expect(body).toEqual({ error: expect.any(String), code: expect.any(String) });
      return (body as { error: string }).error;
    },
  },
  guardian: {
    prefix: '/compat/guardian',
    status: { VALIDATION_FAILED: 400, URI_TOO_LONG: 414, ROUTE_NOT_FOUND: 404, REQUEST_TIMEOUT: 408 },
    text: (body, res) => {
      expect(body).toEqual({ statusCode: res.statusCode, message: expect.any(String), error: expect.any(String) });
      expect((body as { error: string }).error).not.toBe('Error');
      return (body as { message: string }).message;
    },
  },
};

const productOf = (url: string): Product => {
  const p = Object.values(PRODUCTS).find((x) => url.startsWith(`${x.prefix}/`));
  if (p === undefined) throw new Error(`no product for ${url}`);
  return p;
};

/** The answer is the product's error for a catalogue code; returns the product's text. */
function expectProductError(res: Response, url: string, code: Code): string {
  const product = productOf(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(product.status[code]);
  expect(res.headers['content-type'], url).toMatch(/^application\/json/);
  expect(res.body, url).not.toMatch(/FST_ERR|"type":"\/docs\/errors|\n\s+at /);
  expect(res.headers['x-request-id'], url).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  return product.text(res.json(), res);
}

describe('routed by Fastify (SQLite)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(() => h.cleanup());

  /** Every dialect `METHOD /path` with a `:parameter`, HEAD aside. */
  const dialectParamRoutes = (): Array<[string, string]> =>
    listRoutes(h.app)
      .map((r) => r.split(' ') as [string, string])
      .filter(([method, path]) => method !== 'HEAD' && path.startsWith('/compat/') && path.includes('/:'));

  test('every dialect has routes with parameters to check', () => {
    const prefixes = new Set(dialectParamRoutes().map(([, path]) => productOf(path).prefix));
    expect([...prefixes].sort()).toEqual(
      Object.values(PRODUCTS)
        .map((p) => p.prefix)
        .sort(),
    );
  });

  test.each([
    ['an encoded lone surrogate', '%ED%A0%80', 'VALIDATION_FAILED', 'is not valid percent-encoded UTF-8'],
    ['a broken escape', '%ZZ', 'VALIDATION_FAILED', 'is not valid percent-encoded UTF-8'],
    ['NUL', 'a%00b', 'VALIDATION_FAILED', 'contains the NUL character'],
    ['201 characters', 'a'.repeat(201), 'URI_TOO_LONG', 'is longer than 200 characters'],
  ] as const)('a path parameter with %s is the product’s error naming it', async (_what, value, code, words) => {
    // A segment routes of different methods share prints its names as `:a|:b` (Conductor's
    // `/tasks/:taskId` and `/tasks/:workflowId/…`): the answer names the one of the route asked.
    const PARAM = /:(\w+(?:\|:\w+)*)/g;
    for (const [method, path] of dialectParamRoutes()) {
      for (const param of [...path.matchAll(PARAM)].map((m) => m[1] ?? '')) {
        // The organisation of Quant's paths must be the key's own: `default`.
        const url = path.replace(PARAM, (_m, name: string) =>
          name === param ? value : name === 'organisation' ? 'default' : 'x1',
        );
        const res = await h.call(h.rootKey, method as 'GET', url, method === 'GET' ? undefined : {});
        const text = expectProductError(res, url, code);
        const names = param.split('|:').map((name) => `params/${name} ${words}`);
        expect(
          names.some((n) => text.includes(n)),
          `${method} ${url}: ${text}`,
        ).toBe(true);
      }
    }
  });

  test('a route miss is the product’s 404, whatever the method (no 405 under a dialect)', async () => {
    for (const url of [
      '/compat/mindfort/v1/tasks/x',
      '/compat/capy/v1/tasks/x',
      '/compat/conductor/api/tasks/x',
      '/compat/quant/api/v3/organizations/default/ai/tasks/x',
      '/compat/guardian/tasks/x',
    ]) {
      for (const method of ['PATCH', 'PROPFIND', 'OPTIONS']) {
        const res = await h.call(h.rootKey, method as 'GET', url);
        expectProductError(res, url, 'ROUTE_NOT_FOUND');
        expect(res.headers.allow, url).toBeUndefined();
      }
    }
  });
});

describe.each(edgeBackends('dialect-framework-errors'))('bodies the input rules refuse, on $name', (backend) => {
  let e: EdgeApp;
  beforeAll(async () => {
    e = await backend.open();
  });
  afterAll(() => e.cleanup());

  const target = '01900000-0000-7000-8000-000000000000';
  test.each([
    ['/compat/mindfort/api/v1/tasks/run', `{"message":"scan \\ud800","target_id":"${target}"}`, '/message'],
    ['/compat/capy/v1/tasks', '{"projectId":"p","prompt":"x\\udc00"}', '/prompt'],
    ['/compat/quant/api/v3/organizations/default/ai/tasks', '{"title":"t","metadata":{"n":1e400}}', '/metadata/n'],
    [
      '/compat/quant/api/v3/organizations/default/ai/tasks',
      '{"title":"t","metadata":{"__proto__":{}}}',
      '/metadata/__proto__',
    ],
    [
      '/compat/conductor/api/tasks',
      '{"taskId":"x","status":"COMPLETED","outputData":{"k\\ud800":1}}',
      '/outputData/k\ufffd',
    ],
  ])('POST %s %s', async (url, raw, path) => {
    const res = await e.call('POST', url, raw);
    expect(expectProductError(res, url, 'VALIDATION_FAILED')).toContain(path);
    const native = await e.call('GET', '/v1/tasks?limit=200');
    expect(native.json<{ items: unknown[] }>().items).toEqual([]);
  });

  test('a query value with NUL is the product’s 400', async () => {
    const url = '/compat/quant/api/v3/organizations/default/ai/tasks?assignedAgentId=a%00b';
    expect(expectProductError(await e.call('GET', url), url, 'VALIDATION_FAILED')).toContain(
      'querystring/assignedAgentId',
    );
  });
});

describe('on a listening server: a request that never finishes', () => {
  const [sqlite] = edgeBackends('dialect-timeouts');
  let e: EdgeApp;
  let port: number;
  beforeAll(async () => {
    if (sqlite === undefined) throw new Error('no backend');
    e = await sqlite.open({ requestTimeoutMs: 300 });
    await e.app.listen({ host: '127.0.0.1', port: 0 });
    port = (e.app.server.address() as AddressInfo).port;
  });
  afterAll(() => e.cleanup());

  const raw = (bytes: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });

  test('is 408 in the product’s shape (Conductor: status, code, retryable)', async () => {
    const answer = await raw(
      'POST /compat/conductor/api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Content-Length: 50\r\nX-Authorization: ${e.key}\r\n\r\n{"taskId":`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', instance: 'tasklane' });
  });

  test('a method token Node does not know is the product’s 404 (Guardian)', async () => {
    const answer = await raw('FROB /compat/guardian/tasks/x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toEqual({ statusCode: 404, message: expect.any(String), error: 'Not Found' });
  });
});
