/**
 * What every dialect shares: one rate limit per key across all of them (429 with Retry-After, in each
 * product's shape), X-Request-Id on every answer, no problem+json and no stack anywhere, and the native
 * OpenAPI document left to the native API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type Response } from '../helpers/http-harness.js';

let h: Harness;
let task: string;
beforeAll(async () => {
  h = await makeHarness();
  task = (await h.createTask(h.a.admin)).id;
});
afterAll(() => h.cleanup());

const reads = (org: string, id: string): Array<[string, Record<string, string>]> => [
  [`/compat/mindfort/v1/tasks/${org}::${id}`, {}],
  [`/compat/capy/v1/tasks/${id}`, {}],
  [`/compat/conductor/api/tasks/${id}`, {}],
  [`/compat/quant/api/v3/organizations/${org}/ai/tasks/${id}`, {}],
  [`/compat/guardian/tasks/${id}`, {}],
];

describe('every dialect', () => {
  test('answers 200 to its GET with a request id, JSON and never problem+json', async () => {
    for (const [url] of reads(h.a.orgId, task)) {
      const res = await h.call(h.a.admin, 'GET', url, undefined, { 'x-request-id': 'trace-42' });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(res.headers['x-request-id']).toBe('trace-42');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  test('answers its errors as JSON in its own shape, never problem+json, never a stack', async () => {
    for (const [url] of reads(h.a.orgId, task)) {
      for (const res of [await h.call(null, 'GET', url), await h.call(h.a.admin, 'GET', `${url}/nope/nope`)]) {
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.headers['content-type'], url).toMatch(/^application\/json/);
        expect(res.body).not.toMatch(/"type":"\/docs\/errors|\n\s+at /);
      }
    }
  });

  test('shares one rate limit per key: 429 with Retry-After in each product’s shape', async () => {
    const limited = await makeHarness({ rateLimit: 1 });
    try {
      const id = (await limited.createTask(limited.a.admin)).id;
      const urls = reads(limited.a.orgId, id).map(([u]) => u);
      // Burst is 2, shared with the native API: the create above spent one, the next request passes
      // whichever dialect it goes to, then every dialect (and the native API) is at 429.
      expect((await limited.call(limited.a.admin, 'GET', urls[0] ?? '')).statusCode).toBe(200);
      const shapes: Record<string, (r: Response) => void> = {
        mindfort: (r) => expect(r.json()).toEqual({ error: expect.any(String), request_id: r.headers['x-request-id'] }),
        capy: (r) =>
          expect(r.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String), details: {} } }),
        conductor: (r) => expect(r.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryable: true }),
        quant: (r) => expect(r.json()).toEqual({ error: expect.any(String), code: 'RATE_LIMITED' }),
        guardian: (r) =>
          expect(r.json()).toEqual({ statusCode: 429, message: expect.any(String), error: 'Too Many Requests' }),
      };
      expect((await limited.call(limited.a.admin, 'GET', '/v1/tasks')).statusCode).toBe(429);
      for (const url of urls) {
        const res = await limited.call(limited.a.admin, 'GET', url);
        expect(res.statusCode, url).toBe(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        const name = Object.keys(shapes).find((n) => url.includes(n)) ?? '';
        shapes[name]?.(res);
      }
    } finally {
      await limited.cleanup();
    }
  });

  test('stays out of the native /openapi.json', async () => {
    const doc = (await h.call(null, 'GET', '/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/compat'))).toEqual([]);
  });
});
