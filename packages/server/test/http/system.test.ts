/** Health, readiness, and the API description (SPEC §12): public, and complete. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { listRoutes, makeHarness, type Harness } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

test('/healthz and /readyz answer 200 without a key', async () => {
  const health = await h.call(null, 'GET', '/healthz');
  expect(health.statusCode).toBe(200);
  expect(health.json()).toMatchObject({ status: 'ok' });
  const ready = await h.call(null, 'GET', '/readyz');
  expect(ready.statusCode).toBe(200);
  expect(ready.headers['x-request-id']).toBeTruthy();
});

test('/openapi.json is OpenAPI 3.1.0 and describes the task routes', async () => {
  const res = await h.call(null, 'GET', '/openapi.json');
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
  expect(doc.openapi).toBe('3.1.0');
  for (const path of ['/v1/tasks', '/v1/tasks/batch', '/v1/tasks/{taskId}', '/v1/tasks/{taskId}/steps']) {
    expect(Object.keys(doc.paths), path).toContain(path);
  }
  expect(Object.keys(doc.paths['/v1/tasks'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
});

test('/openapi.json describes every /v1 route the app serves', async () => {
  const doc = (await h.call(null, 'GET', '/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
  const missing = listRoutes(h.app)
    .map((r) => r.split(' ') as [string, string])
    .filter(([method, path]) => method !== 'HEAD' && path.startsWith('/v1'))
    .filter(([method, path]) => doc.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()] === undefined)
    .map(([method, path]) => `${method} ${path}`);
  expect(missing).toEqual([]);
});

test('/docs answers an HTML page', async () => {
  let res = await h.call(null, 'GET', '/docs');
  for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
    res = await h.call(null, 'GET', new URL(String(res.headers.location), 'http://x/docs/').pathname);
  }
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.body).toMatch(/<html/i);
});
