/**
 * Every /v1 route, from Fastify's own route table: the same 401 for every kind of bad key, 403
 * FORBIDDEN for a key without the scope, and no 401/403 for a key that holds exactly the scope.
 * A /v1 route that ROUTES does not describe fails the first test: new routes must be added here.
 */
import { TASK_ACTIONS } from '@tasklane/sdk/schemas';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Scope } from '../../src/domain/scope.js';
import { listRoutes, makeHarness, withoutRequestId, type Harness, type Response } from '../helpers/http-harness.js';

interface Ctx {
  taskId: string;
  keyId: string;
  n: number;
}

type Need = 'tasks:read' | 'tasks:write' | 'tasks:work' | 'tasks:write|tasks:work' | 'admin' | 'root' | 'any key';

interface RouteCase {
  need: Need;
  /** The request, as method-less parts; the path's parameters are filled from ctx. */
  req: (ctx: Ctx) => { url: string; body?: unknown; headers?: Record<string, string> };
}

/** An event route's page form: its stream would not end, and inject() waits for the end. */
const PAGE = { accept: 'application/json' };

const task = (c: Ctx) => `/v1/tasks/${c.taskId}`;

const ROUTES: Record<string, RouteCase> = {
  'GET /v1/tasks': { need: 'tasks:read', req: () => ({ url: '/v1/tasks' }) },
  'HEAD /v1/tasks': { need: 'tasks:read', req: () => ({ url: '/v1/tasks' }) },
  'POST /v1/tasks': { need: 'tasks:write', req: () => ({ url: '/v1/tasks', body: { type: 'auth.check' } }) },
  'POST /v1/tasks/batch': {
    need: 'tasks:write',
    req: () => ({ url: '/v1/tasks/batch', body: { tasks: [{ type: 'auth.check' }] } }),
  },
  'GET /v1/tasks/:taskId': { need: 'tasks:read', req: (c) => ({ url: task(c) }) },
  'HEAD /v1/tasks/:taskId': { need: 'tasks:read', req: (c) => ({ url: task(c) }) },
  'PATCH /v1/tasks/:taskId': { need: 'tasks:write', req: (c) => ({ url: task(c), body: { title: 'renamed' } }) },
  'DELETE /v1/tasks/:taskId': { need: 'tasks:write', req: (c) => ({ url: task(c) }) },
  'GET /v1/tasks/:taskId/steps': { need: 'tasks:read', req: (c) => ({ url: `${task(c)}/steps` }) },
  'GET /v1/tasks/:taskId/events': { need: 'tasks:read', req: (c) => ({ url: `${task(c)}/events`, headers: PAGE }) },
  'GET /v1/events': { need: 'tasks:read', req: () => ({ url: '/v1/events', headers: PAGE }) },
  'HEAD /v1/tasks/:taskId/steps': { need: 'tasks:read', req: (c) => ({ url: `${task(c)}/steps` }) },
  'POST /v1/tasks/:taskId/steps': {
    need: 'tasks:write|tasks:work',
    req: (c) => ({ url: `${task(c)}/steps`, body: { steps: [{ message: 'hello' }] } }),
  },
  // Expanded below into one case per action.
  'POST /v1/tasks/:taskId/:action': { need: 'tasks:write', req: (c) => ({ url: `${task(c)}/cancel`, body: {} }) },
  'POST /v1/tasks/claim': {
    need: 'tasks:work',
    req: () => ({ url: '/v1/tasks/claim', body: { types: ['auth.none'], workerId: 'w' } }),
  },
  'POST /v1/tasks/reports': {
    need: 'tasks:work',
    req: (c) => ({
      url: '/v1/tasks/reports',
      body: { reports: [{ taskId: c.taskId, action: 'release', leaseId: 'no-lease' }] },
    }),
  },
  'POST /v1/tasks/:taskId/claim': {
    need: 'tasks:work',
    req: (c) => ({ url: `${task(c)}/claim`, body: { workerId: 'w' } }),
  },
  'POST /v1/tasks/:taskId/heartbeat': {
    need: 'tasks:work',
    req: (c) => ({ url: `${task(c)}/heartbeat`, body: { leaseId: 'no-lease' } }),
  },
  'POST /v1/tasks/:taskId/complete': {
    need: 'tasks:work',
    req: (c) => ({ url: `${task(c)}/complete`, body: { leaseId: 'no-lease' } }),
  },
  'POST /v1/tasks/:taskId/fail': {
    need: 'tasks:work',
    req: (c) => ({ url: `${task(c)}/fail`, body: { leaseId: 'no-lease', error: { message: 'x' } } }),
  },
  'POST /v1/tasks/:taskId/release': {
    need: 'tasks:work',
    req: (c) => ({ url: `${task(c)}/release`, body: { leaseId: 'no-lease' } }),
  },
  'PUT /v1/types/:type': { need: 'admin', req: () => ({ url: '/v1/types/auth.target', body: { concurrency: 5 } }) },
  'GET /v1/types': { need: 'tasks:read', req: () => ({ url: '/v1/types' }) },
  'HEAD /v1/types': { need: 'tasks:read', req: () => ({ url: '/v1/types' }) },
  'GET /v1/types/:type': { need: 'tasks:read', req: () => ({ url: '/v1/types/auth.target' }) },
  'HEAD /v1/types/:type': { need: 'tasks:read', req: () => ({ url: '/v1/types/auth.target' }) },
  'GET /v1/lists/:listId': { need: 'tasks:read', req: () => ({ url: '/v1/lists/auth-list' }) },
  'HEAD /v1/lists/:listId': { need: 'tasks:read', req: () => ({ url: '/v1/lists/auth-list' }) },
  'GET /v1/stats': { need: 'tasks:read', req: () => ({ url: '/v1/stats' }) },
  'HEAD /v1/stats': { need: 'tasks:read', req: () => ({ url: '/v1/stats' }) },
  'POST /v1/projects': {
    need: 'tasks:write',
    req: (c) => ({ url: '/v1/projects', body: { key: `P${c.n}`, name: 'Project' } }),
  },
  'GET /v1/projects': { need: 'tasks:read', req: () => ({ url: '/v1/projects' }) },
  'HEAD /v1/projects': { need: 'tasks:read', req: () => ({ url: '/v1/projects' }) },
  'GET /v1/projects/:projectId': { need: 'tasks:read', req: () => ({ url: '/v1/projects/OPS' }) },
  'HEAD /v1/projects/:projectId': { need: 'tasks:read', req: () => ({ url: '/v1/projects/OPS' }) },
  'POST /v1/orgs': { need: 'root', req: (c) => ({ url: '/v1/orgs', body: { id: `org-${c.n}`, name: 'Another org' } }) },
  'POST /v1/keys': { need: 'admin', req: () => ({ url: '/v1/keys', body: { name: 'made', scopes: ['tasks:read'] } }) },
  'GET /v1/keys': { need: 'admin', req: () => ({ url: '/v1/keys' }) },
  'HEAD /v1/keys': { need: 'admin', req: () => ({ url: '/v1/keys' }) },
  'DELETE /v1/keys/:keyId': { need: 'admin', req: (c) => ({ url: `/v1/keys/${c.keyId}` }) },
  'GET /v1/org': { need: 'tasks:read', req: () => ({ url: '/v1/org' }) },
  'HEAD /v1/org': { need: 'tasks:read', req: () => ({ url: '/v1/org' }) },
  'PATCH /v1/org': { need: 'admin', req: () => ({ url: '/v1/org', body: { defaults: { maxRetries: null } } }) },
  'GET /v1/whoami': { need: 'any key', req: () => ({ url: '/v1/whoami' }) },
  'HEAD /v1/whoami': { need: 'any key', req: () => ({ url: '/v1/whoami' }) },
  'POST /v1/tasks/bulk': {
    need: 'tasks:write',
    req: (c) => ({ url: '/v1/tasks/bulk', body: { action: 'archive', ids: [c.taskId] } }),
  },
  // Webhooks: a public IP literal (no name to resolve); an unknown endpoint answers 404, not 401/403.
  'POST /v1/webhooks': {
    need: 'admin',
    req: () => ({ url: '/v1/webhooks', body: { url: 'https://93.184.215.14/hook', events: ['task.created'] } }),
  },
  'GET /v1/webhooks': { need: 'admin', req: () => ({ url: '/v1/webhooks' }) },
  'HEAD /v1/webhooks': { need: 'admin', req: () => ({ url: '/v1/webhooks' }) },
  'GET /v1/webhooks/callback-secret': { need: 'admin', req: () => ({ url: '/v1/webhooks/callback-secret' }) },
  'HEAD /v1/webhooks/callback-secret': { need: 'admin', req: () => ({ url: '/v1/webhooks/callback-secret' }) },
  'GET /v1/webhooks/:webhookId': { need: 'admin', req: () => ({ url: '/v1/webhooks/wh_unknown' }) },
  'HEAD /v1/webhooks/:webhookId': { need: 'admin', req: () => ({ url: '/v1/webhooks/wh_unknown' }) },
  'PATCH /v1/webhooks/:webhookId': {
    need: 'admin',
    req: () => ({ url: '/v1/webhooks/wh_unknown', body: { enabled: false } }),
  },
  'DELETE /v1/webhooks/:webhookId': { need: 'admin', req: () => ({ url: '/v1/webhooks/wh_unknown' }) },
  'GET /v1/webhooks/:webhookId/deliveries': {
    need: 'admin',
    req: () => ({ url: '/v1/webhooks/wh_unknown/deliveries' }),
  },
  'HEAD /v1/webhooks/:webhookId/deliveries': {
    need: 'admin',
    req: () => ({ url: '/v1/webhooks/wh_unknown/deliveries' }),
  },
  'POST /v1/webhooks/:webhookId/deliveries/:deliveryId/retry': {
    need: 'admin',
    req: () => ({ url: '/v1/webhooks/wh_unknown/deliveries/msg_unknown/retry' }),
  },
  'GET /v1/tasks/:taskId/deliveries': { need: 'admin', req: (c) => ({ url: `${task(c)}/deliveries` }) },
  'HEAD /v1/tasks/:taskId/deliveries': { need: 'admin', req: (c) => ({ url: `${task(c)}/deliveries` }) },
  'POST /v1/tasks/:taskId/deliveries/:deliveryId/retry': {
    need: 'admin',
    req: (c) => ({ url: `${task(c)}/deliveries/msg_unknown/retry` }),
  },
  'GET /v1/types/:type/throughput': { need: 'tasks:read', req: () => ({ url: '/v1/types/auth.target/throughput' }) },
  'HEAD /v1/types/:type/throughput': { need: 'tasks:read', req: () => ({ url: '/v1/types/auth.target/throughput' }) },
};

/** Every (route, method) as a request to make: the action route once per action. */
type Case = { name: string; method: string; need: Need; req: RouteCase['req'] };
const CASES: Case[] = Object.entries(ROUTES).flatMap(([name, rc]): Case[] => {
  const method = name.split(' ')[0] as string;
  if (name.endsWith('/:action')) {
    return TASK_ACTIONS.map((action) => ({
      name: `POST /v1/tasks/:taskId/${action}`,
      method,
      need: rc.need,
      req: (c: Ctx) => ({ url: `${task(c)}/${action}`, body: {} }),
    }));
  }
  return [{ name, method, need: rc.need, req: rc.req }];
});

let h: Harness;
let n = 0;
/** Keys that hold, and keys that lack, each need. */
let holding: Record<Need, string>;
/** Every key has some scope: no key lacks what 'any key' needs. */
let lacking: Record<Exclude<Need, 'any key'>, string>;

async function freshCtx(): Promise<Ctx> {
  n += 1;
  const t = await h.createTask(h.a.admin, { type: 'auth.target' });
  const key = await h.createKey(h.a.admin, ['tasks:read'], { name: `throwaway-${n}` });
  return { taskId: t.id, keyId: key.id, n };
}

function send(
  method: string,
  key: string | null,
  r: { url: string; body?: unknown; headers?: Record<string, string> },
  headers: Record<string, string> = {},
): Promise<Response> {
  return h.call(key, method as 'GET', r.url, r.body, { ...r.headers, ...headers });
}

beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
  const project = await h.call(h.a.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Operations' });
  expect(project.statusCode).toBe(201);
  const k = async (scopes: Scope[]) => (await h.createKey(h.a.admin, scopes)).secret;
  holding = {
    'tasks:read': await k(['tasks:read']),
    'tasks:write': await k(['tasks:write']),
    'tasks:work': await k(['tasks:work']),
    'tasks:write|tasks:work': await k(['tasks:write']),
    admin: h.a.admin,
    root: h.rootKey,
    'any key': await k(['tasks:work']),
  };
  lacking = {
    'tasks:read': await k(['tasks:work']),
    'tasks:write': await k(['tasks:read', 'tasks:work']),
    'tasks:work': await k(['tasks:read', 'tasks:write']),
    'tasks:write|tasks:work': await k(['tasks:read']),
    admin: await k(['tasks:read', 'tasks:write', 'tasks:work']),
    root: h.a.admin,
  };
});
afterAll(() => h.cleanup());

test('the route table of this file covers every /v1 route the app serves, and no other', () => {
  const served = listRoutes(h.app).filter((r) => r.split(' ')[1]?.startsWith('/v1'));
  expect(served.length).toBeGreaterThan(0);
  expect(served.filter((r) => !(r in ROUTES))).toEqual([]);
  expect(Object.keys(ROUTES).filter((r) => !served.includes(r))).toEqual([]);
});

describe('every bad key answers the same 401', () => {
  let reference: Response;
  /** Kinds of bad credentials, each as an Authorization header value (or none). */
  let badAuth: Record<string, string | null>;

  beforeAll(async () => {
    reference = await h.call(null, 'GET', '/v1/tasks');
    expect(reference.statusCode).toBe(401);

    const revoked = await h.createKey(h.a.admin, ['admin'], { name: 'to-revoke' });
    expect((await h.call(revoked.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
    expect((await h.call(h.a.admin, 'DELETE', `/v1/keys/${revoked.id}`)).statusCode).toBe(204);

    const clock = h.manualClock;
    if (clock === null) throw new Error('manual clock expected');
    const expired = await h.createKey(h.a.admin, ['admin'], {
      name: 'short-lived',
      expiresAt: new Date(clock.now() + 1000).toISOString(),
    });
    expect((await h.call(expired.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
    clock.advance(60_000);

    badAuth = {
      'no Authorization header': null,
      'Bearer with no token': 'Bearer ',
      'Bearer with a malformed token': 'Bearer not-a-key',
      'a token too short to be a key': 'Bearer tl_abc',
      'the key without the Bearer scheme': h.a.admin,
      'Basic credentials': `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'an unknown, well-formed key': `Bearer tl_${'Z'.repeat(40)}`,
      'a revoked key': `Bearer ${revoked.secret}`,
      'an expired key': `Bearer ${expired.secret}`,
    };
  });

  test('the reference 401 is a problem with WWW-Authenticate: Bearer', () => {
    expect(reference.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reference.headers['www-authenticate']).toBe('Bearer');
    expect(reference.json()).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ctx = await freshCtx();
    for (const [kind, header] of Object.entries(badAuth)) {
      const res = await send(c.method, null, c.req(ctx), header === null ? {} : { authorization: header });
      const what = `${c.name} with ${kind}`;
      expect(res.statusCode, what).toBe(401);
      expect(res.headers['www-authenticate'], what).toBe('Bearer');
      expect(res.headers['x-request-id'], what).toBeTruthy();
      if (c.method === 'HEAD') continue;
      expect(res.headers['content-type'], what).toBe(reference.headers['content-type']);
      expect(withoutRequestId(res), what).toEqual(withoutRequestId(reference));
    }
    // Nothing happened to the task the requests named.
    const after = await h.getTask(h.a.admin, ctx.taskId);
    expect(after.version).toBe(1);
    expect(after.status).toBe('queued');
  });
});

describe('a key without the scope a route needs answers 403 FORBIDDEN', () => {
  const scoped = CASES.flatMap((c) => (c.need === 'any key' ? [] : [{ ...c, need: c.need }]));
  test.each(scoped.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ctx = await freshCtx();
    const res = await send(c.method, lacking[c.need], c.req(ctx));
    expect(res.statusCode).toBe(403);
    if (c.method !== 'HEAD') {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    const after = await h.getTask(h.a.admin, ctx.taskId);
    expect(after.version).toBe(1);
  });
});

describe('a key holding exactly the scope a route needs gets past authorization', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ctx = await freshCtx();
    const res = await send(c.method, holding[c.need], c.req(ctx));
    expect([401, 403], `${c.name}: ${res.body}`).not.toContain(res.statusCode);
    expect(res.statusCode, `${c.name}: ${res.body}`).toBeLessThan(500);
  });
});

test('a tasks:work key may not append steps to a task without a lease id (that needs tasks:write)', async () => {
  const work = await h.createKey(h.a.admin, ['tasks:work']);
  const t = await h.createTask(h.a.admin);
  const res = await h.call(work.secret, 'POST', `/v1/tasks/${t.id}/steps`, { steps: [{ message: 'x' }] });
  expect(res.statusCode).toBe(403);
  expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
  expect((await h.getTask(h.a.admin, t.id)).steps).toEqual([]);
});

test('public routes answer without a key', async () => {
  for (const url of ['/healthz', '/readyz', '/openapi.json']) {
    expect((await h.call(null, 'GET', url)).statusCode, url).toBe(200);
  }
});
