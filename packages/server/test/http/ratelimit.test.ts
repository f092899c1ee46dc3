/** The per-key rate limit (SPEC §8): with 2 requests/s (burst 4), the 5th quick request is 429. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeHarness, type Harness, type Problem } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ rateLimit: 2 });
});
afterAll(() => h.cleanup());

test('the 5th quick request of a key is 429 RATE_LIMITED with Retry-After; other keys are unaffected', async () => {
  const hot = await h.createKey(h.b.admin, ['tasks:read', 'tasks:write'], { name: 'hot' });
  const calm = await h.createKey(h.b.admin, ['tasks:read'], { name: 'calm' });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await h.call(hot.secret, 'GET', '/v1/tasks')).statusCode);
  expect(statuses).toEqual([200, 200, 200, 200]);

  const limited = await h.call(hot.secret, 'POST', '/v1/tasks', { type: 'x' });
  expect(limited.statusCode).toBe(429);
  expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(limited.json<Problem>()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  expect(limited.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(2);
  expect(limited.headers['x-request-id']).toBeTruthy();
  // It stays limited while its window lasts.
  expect((await h.call(hot.secret, 'GET', '/v1/tasks')).statusCode).toBe(429);
  // The refused create did not happen.
  expect((await h.call(calm.secret, 'GET', '/v1/tasks')).json<{ items: unknown[] }>().items).toEqual([]);

  // Another key of the same org, and a key of another org, are not limited.
  expect((await h.call(calm.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
  expect((await h.call(h.a.admin, 'GET', '/v1/tasks')).statusCode).toBe(200);
});

test('requests without a valid key are not counted against any key', async () => {
  const key = await h.createKey(h.a.admin, ['tasks:read'], { name: 'fresh' });
  for (let i = 0; i < 10; i++) expect((await h.call(`tl_${'Q'.repeat(40)}`, 'GET', '/v1/tasks')).statusCode).toBe(401);
  expect((await h.call(key.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
});

test('public routes are not rate limited', async () => {
  for (let i = 0; i < 10; i++) expect((await h.call(null, 'GET', '/healthz')).statusCode).toBe(200);
});
