/**
 * The cases of openapi-responses.test.ts: for every operation of the native API, the request that
 * succeeds, the one that names something missing (404), and the answers of its own that are cheap
 * to provoke; and the error answers every operation can be brought to give, derived from its
 * method, path and security. A case names the status it provokes; the test checks the answer
 * against the document.
 */
import type { Clock } from '../../src/domain/clock.js';
import type { Scope } from '../../src/domain/scope.js';
import { lackingScope } from '../../src/http/openapi-answers.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { makeHarness, missingUuid, type Harness, type Response, type WireTask } from '../helpers/http-harness.js';

/** An operation of the served document, as the cases need it. */
export interface OperationUnderTest {
  /** `METHOD /path`, as the document names it. */
  name: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  /** No key needed (`security: []`). */
  public: boolean;
  /** The scopes it names, any one of which suffices. */
  scopes: Scope[];
  pathParams: Array<{ name: string; maxLength?: number }>;
}

/** A request on an operation's method and path. */
export interface Req {
  /** The key; left out: one holding the first scope the operation names; null: none. */
  key?: string | null;
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** A raw body (sent as is, with `content-type` from headers or application/json). */
  payload?: string;
  headers?: Record<string, string>;
}

export interface World {
  h: Harness;
  /** The same server with a rate limit of 1 request per second (burst 2). */
  limited: Harness;
  /** The same server with its store closed. */
  broken: Harness;
  keys: Record<Scope, string>;
  /** A fresh task type, so that claims find only the task a case made. */
  type(): string;
  task(body?: Record<string, unknown>): Promise<WireTask>;
  /** A task claimed through the worker API, and its lease id. */
  claimed(): Promise<{ task: WireTask; leaseId: string }>;
  canceled(task?: WireTask): Promise<WireTask>;
  /** Send `req` on `op`'s method and path. */
  send(op: OperationUnderTest, req: Req, app?: Harness): Promise<Response>;
}

export type StoreFactory = (clock: Clock) => TaskStore;

/** The server three times over the same kind of store: as it is, rate-limited, and with storage gone. */
export async function makeWorld(store?: StoreFactory): Promise<World> {
  const opts = store === undefined ? {} : { store };
  const h = await makeHarness(opts);
  const limited = await makeHarness({ ...opts, rateLimit: 1 });
  const broken = await makeHarness(opts);
  await broken.store.close();
  const key = async (scope: Scope) => (await h.createKey(h.a.admin, [scope])).secret;
  const keys: Record<Scope, string> = {
    'tasks:read': await key('tasks:read'),
    'tasks:write': await key('tasks:write'),
    'tasks:work': await key('tasks:work'),
    admin: h.a.admin,
    root: h.rootKey,
  };
  let n = 0;
  const world: World = {
    h,
    limited,
    broken,
    keys,
    type: () => `openapi.t${++n}`,
    task: (body = {}) => h.createTask(keys['tasks:write'], { type: world.type(), ...body }),
    async claimed() {
      const task = await world.task();
      const res = await h.call(keys['tasks:work'], 'POST', `/v1/tasks/${task.id}/claim`, { workerId: 'w' });
      const claimed = res.json<WireTask>();
      return { task: claimed, leaseId: claimed.lease?.id ?? '' };
    },
    async canceled(task) {
      const t = task ?? (await world.task());
      return (await h.call(keys['tasks:write'], 'POST', `/v1/tasks/${t.id}/cancel`, {})).json<WireTask>();
    },
    send(op, req, app = h) {
      const url = op.path.replace(/\{(\w+)\}/g, (_, p: string) => req.params?.[p] ?? 'missing-param');
      return app.call(req.key ?? null, op.method, `${url}${req.query ?? ''}`, req.payload ?? req.body, req.headers);
    },
  };
  return world;
}

/** A public address (never contacted here: the dispatcher does not run in these tests). */
const PUBLIC_HOOK = 'http://93.184.215.14/hook';

/** A new webhook endpoint of org a, for task.created; its id. */
async function webhook(w: World): Promise<string> {
  const res = await w.h.call(w.keys.admin, 'POST', '/v1/webhooks', { url: PUBLIC_HOOK, events: ['task.created'] });
  return res.json<{ id: string }>().id;
}

// ---- the cases ---------------------------------------------------------------------------------------

export interface Case {
  name: string;
  status: number;
  request: (w: World) => Promise<Req> | Req;
  /** Run on the rate-limited or the broken app. */
  app?: 'limited' | 'broken';
}

export interface OperationCases {
  /** The request that succeeds (its key: one with the scope the document names), and its status. */
  ok: [status: number, request: (w: World) => Promise<Req> | Req];
  /** The request naming something that does not exist: 404. */
  missing?: (w: World) => Promise<Req> | Req;
  /** More answers: the operation's own conflicts, preconditions, variants. */
  more?: Case[];
  /** Documented `status media` that cannot be provoked here, and why. */
  unprovoked?: Record<string, string>;
}

const json = (body: unknown): Pick<Req, 'body'> => ({ body });
const task = (t: WireTask) => ({ taskId: t.id });
const LARGE = `{"x":"${'x'.repeat(1 << 20)}"}`;
/** A payload the body limit lets through and the service's content rules refuse (413). */
const OVER_256_KIB = 'x'.repeat(300_000);

/** Cases of every operation, by `METHOD /path` as the document names it. */
export const CASES: Record<string, OperationCases> = {
  'GET /healthz': { ok: [200, () => ({})] },
  'GET /readyz': {
    ok: [200, () => ({})],
    more: [{ name: 'storage gone', status: 503, app: 'broken', request: () => ({}) }],
  },
  'GET /openapi.json': { ok: [200, () => ({})] },
  'GET /docs/errors': { ok: [200, () => ({})] },
  'GET /metrics': {
    ok: [200, () => ({})],
    unprovoked: {
      '401 application/problem+json': 'only with a metrics token configured: test/http/metrics.test.ts',
      '403 application/problem+json': 'only from a non-loopback address: test/http/metrics.test.ts',
    },
  },

  'POST /v1/tasks': {
    ok: [201, (w) => json({ type: w.type() })],
    more: [
      { name: 'replayed Idempotency-Key', status: 200, request: (w) => replay(w, '/v1/tasks', { type: w.type() }) },
      { name: 'a field it does not take', status: 400, request: (w) => json({ type: w.type(), status: 'queued' }) },
      { name: 'input over 256 KiB', status: 413, request: (w) => json({ type: w.type(), input: OVER_256_KIB }) },
      { name: 'unknown dependency', status: 422, request: (w) => json({ type: w.type(), dependsOn: [missingUuid()] }) },
      { name: 'Idempotency-Key, other body', status: 422, request: (w) => reused(w, '/v1/tasks', { type: w.type() }) },
      { name: 'Idempotency-Key of a deleted task', status: 409, request: (w) => orphaned(w, 'single') },
      {
        name: 'unexpected failure',
        status: 500,
        request: (w) => {
          w.h.failNextWrite(new Error('boom'));
          return json({ type: w.type() });
        },
      },
    ],
  },
  'POST /v1/tasks/batch': {
    ok: [201, (w) => json({ tasks: [{ type: w.type() }] })],
    more: [
      {
        name: 'Prefer: return=minimal',
        status: 201,
        request: (w) => ({ ...json({ tasks: [{ type: w.type() }] }), headers: { prefer: 'return=minimal' } }),
      },
      { name: 'replayed', status: 200, request: (w) => replay(w, '/v1/tasks/batch', { tasks: [{ type: w.type() }] }) },
      { name: 'no tasks', status: 400, request: () => json({ tasks: [] }) },
      {
        name: 'a cycle',
        status: 422,
        request: (w) =>
          json({
            tasks: [
              { ref: 'a', type: w.type(), dependsOn: ['b'] },
              { ref: 'b', type: w.type(), dependsOn: ['a'] },
            ],
          }),
      },
      { name: 'Idempotency-Key of a deleted task', status: 409, request: (w) => orphaned(w, 'batch') },
    ],
  },
  'GET /v1/tasks': {
    ok: [200, () => ({ query: '?limit=5' })],
    more: [
      { name: 'a cursor it did not give', status: 400, request: () => ({ query: '?cursor=nope' }) },
      { name: 'a title search', status: 200, request: () => ({ query: '?q=50%25_off' }) },
    ],
  },
  'POST /v1/tasks/bulk': {
    ok: [200, async (w) => json({ action: 'cancel', ids: [(await w.task()).id] })],
    more: [
      {
        name: 'by filter, counting only',
        status: 200,
        request: () => json({ action: 'cancel', filter: {}, dryRun: true }),
      },
      { name: 'neither ids nor filter', status: 400, request: () => json({ action: 'cancel' }) },
    ],
  },
  'GET /v1/tasks/{taskId}': {
    ok: [200, async (w) => ({ params: task(await w.task()) })],
    missing: () => ({ params: { taskId: missingUuid() } }),
    more: [
      { name: 'terminal', status: 200, request: async (w) => ({ params: task(await w.canceled()) }) },
      {
        name: 'If-None-Match of its version',
        status: 304,
        request: async (w) => {
          const t = await w.task();
          return { params: task(t), headers: { 'if-none-match': `"${t.version}"` } };
        },
      },
      {
        name: 'wait over 60',
        status: 400,
        request: async (w) => ({ params: task(await w.task()), query: '?wait=61' }),
      },
    ],
  },
  'PATCH /v1/tasks/{taskId}': {
    ok: [
      200,
      async (w) => {
        const t = await w.task();
        return { params: task(t), ...json({ priority: 5 }), headers: { 'if-match': `"${t.version}"` } };
      },
    ],
    missing: () => ({ params: { taskId: missingUuid() }, ...json({ priority: 5 }) }),
    more: [
      {
        name: 'If-Match of another version',
        status: 412,
        request: async (w) => ({
          params: task(await w.task()),
          ...json({ priority: 5 }),
          headers: { 'if-match': '"9"' },
        }),
      },
    ],
  },
  'DELETE /v1/tasks/{taskId}': {
    ok: [204, async (w) => ({ params: task(await w.canceled()) })],
    missing: () => ({ params: { taskId: missingUuid() } }),
    more: [
      { name: 'an active task', status: 409, request: async (w) => ({ params: task(await w.task()) }) },
      {
        name: 'an active task depends on it',
        status: 409,
        request: async (w) => {
          const dep = await w.task({ start: false });
          await w.task({ dependsOn: [dep.id], onDependencyFailure: 'run' });
          return { params: task(await w.canceled(dep)) };
        },
      },
    ],
  },
  'GET /v1/events': {
    ok: [200, () => ({ headers: { accept: 'application/json' } })],
    more: [
      {
        name: 'a resume point never given: the page resets',
        status: 200,
        request: () => ({ query: '?after=900000000000', headers: { accept: 'application/json' } }),
      },
      {
        name: 'filters, and Last-Event-ID over after',
        status: 200,
        request: (w) => ({
          query: `?type=task.created&type=task.deleted&taskType=${w.type()}&listId=l&projectId=P&after=1&limit=5`,
          headers: { accept: 'application/json', 'last-event-id': '0' },
        }),
      },
      { name: 'an unknown event type', status: 400, request: () => ({ query: '?type=task.exploded' }) },
      { name: 'Last-Event-ID that is no id', status: 400, request: () => ({ headers: { 'last-event-id': 'x' } }) },
    ],
    unprovoked: {
      '200 text/event-stream':
        "the org's stream never ends by itself and app.inject() waits for the end; test/e2e/events/ reads it on a real port",
    },
  },
  'GET /v1/tasks/{taskId}/events': {
    // A terminal task's stream replays its history and ends.
    ok: [200, async (w) => ({ params: task(await w.canceled()) })],
    missing: () => ({ params: { taskId: missingUuid() } }),
    more: [
      {
        name: 'the JSON page',
        status: 200,
        request: async (w) => ({ params: task(await w.task()), headers: { accept: 'application/json' } }),
      },
      {
        name: 'limit over 1000',
        status: 400,
        request: async (w) => ({ params: task(await w.task()), query: '?limit=1001' }),
      },
    ],
  },
  'GET /v1/tasks/{taskId}/steps': {
    ok: [200, async (w) => ({ params: task(await w.task()) })],
    missing: () => ({ params: { taskId: missingUuid() } }),
  },
  'POST /v1/tasks/{taskId}/steps': {
    ok: [200, async (w) => ({ params: task(await w.task()), ...json({ steps: [{ message: 'm' }] }) })],
    missing: () => ({ params: { taskId: missingUuid() }, ...json({ steps: [{ message: 'm' }] }) }),
    more: [
      {
        name: 'tasks:work without a lease id',
        status: 403,
        request: async (w) => ({
          key: w.keys['tasks:work'],
          params: task(await w.task()),
          ...json({ steps: [{ message: 'm' }] }),
        }),
      },
      {
        name: 'a worker holds it',
        status: 409,
        request: async (w) => ({ params: task((await w.claimed()).task), ...json({ steps: [{ message: 'm' }] }) }),
      },
      {
        name: 'a lease id on a canceled task',
        status: 409,
        request: async (w) => ({
          params: task(await w.canceled()),
          ...json({ steps: [{ message: 'm' }], leaseId: 'gone' }),
        }),
      },
      {
        name: "a step's data over 256 KiB",
        status: 413,
        request: async (w) => ({
          params: task(await w.task()),
          ...json({ steps: [{ message: 'm', data: OVER_256_KIB }] }),
        }),
      },
    ],
  },
  'POST /v1/tasks/{taskId}/{action}': {
    ok: [200, async (w) => ({ params: { ...task(await w.task()), action: 'cancel' }, ...json({}) })],
    missing: () => ({ params: { taskId: missingUuid(), action: 'cancel' }, ...json({}) }),
    more: [
      {
        name: 'approve a queued task',
        status: 409,
        request: async (w) => ({ params: { ...task(await w.task()), action: 'approve' }, ...json({}) }),
      },
      {
        name: 'an unknown action',
        status: 400,
        request: async (w) => ({ params: { ...task(await w.task()), action: 'explode' }, ...json({}) }),
      },
    ],
  },
  'POST /v1/tasks/claim': {
    ok: [200, async (w) => json({ types: [(await w.task()).type], workerId: 'w' })],
    more: [{ name: 'no types', status: 400, request: () => json({ workerId: 'w' }) }],
  },
  'POST /v1/tasks/reports': {
    ok: [
      200,
      async (w) => {
        const { task: t, leaseId } = await w.claimed();
        return json({ reports: [{ taskId: t.id, action: 'heartbeat', leaseId }] });
      },
    ],
    more: [
      {
        name: "a report's result over 256 KiB",
        status: 413,
        request: async (w) => {
          const { task: t, leaseId } = await w.claimed();
          return json({ reports: [{ taskId: t.id, action: 'complete', leaseId, result: OVER_256_KIB }] });
        },
      },
    ],
  },
  'POST /v1/tasks/{taskId}/claim': {
    ok: [200, async (w) => ({ params: task(await w.task()), ...json({ workerId: 'w' }) })],
    missing: () => ({ params: { taskId: missingUuid() }, ...json({ workerId: 'w' }) }),
    more: [
      {
        name: 'a task in backlog',
        status: 409,
        request: async (w) => ({ params: task(await w.task({ start: false })), ...json({ workerId: 'w' }) }),
      },
      {
        name: 'its type at its concurrency',
        status: 429,
        request: async (w) => {
          const type = w.type();
          await w.h.call(w.keys.admin, 'PUT', `/v1/types/${type}`, { concurrency: 1 });
          const [first, second] = [await w.task({ type }), await w.task({ type })];
          await w.h.call(w.keys['tasks:work'], 'POST', `/v1/tasks/${first.id}/claim`, { workerId: 'w' });
          return { params: task(second), ...json({ workerId: 'w' }) };
        },
      },
    ],
  },
  ...leaseRoutes(),

  'PUT /v1/types/{type}': { ok: [200, (w) => ({ params: { type: w.type() }, ...json({ concurrency: 2 }) })] },
  'GET /v1/types': { ok: [200, () => ({})] },
  'GET /v1/types/{type}': {
    ok: [
      200,
      async (w) => {
        const type = w.type();
        await w.h.call(w.keys.admin, 'PUT', `/v1/types/${type}`, { concurrency: 2 });
        return { params: { type } };
      },
    ],
    missing: (w) => ({ params: { type: w.type() } }),
  },
  'GET /v1/lists/{listId}': {
    ok: [200, () => ({ params: { listId: 'some-list' } })],
    unprovoked: {
      '400 application/problem+json':
        'listId takes 1-200 characters, and the router refuses a longer parameter first (414)',
    },
  },
  'GET /v1/stats': {
    ok: [200, () => ({})],
    more: [
      { name: 'of one type', status: 200, request: () => ({ query: '?type=openapi.none' }) },
      { name: 'a type that is no type name', status: 400, request: () => ({ query: '?type=not%20a%20type' }) },
    ],
  },
  'GET /v1/types/{type}/throughput': {
    ok: [200, (w) => ({ params: { type: w.type() }, query: '?minutes=5' })],
    more: [
      {
        name: 'minutes over 1,440',
        status: 400,
        request: (w) => ({ params: { type: w.type() }, query: '?minutes=1441' }),
      },
    ],
  },
  'GET /v1/whoami': { ok: [200, () => ({})] },

  'POST /v1/projects': {
    ok: [201, () => json({ key: projectKey(), name: 'P' })],
    more: [
      {
        name: 'its key exists',
        status: 409,
        request: async (w) => {
          const key = projectKey();
          await w.h.call(w.keys['tasks:write'], 'POST', '/v1/projects', { key, name: 'P' });
          return json({ key, name: 'P' });
        },
      },
    ],
  },
  'GET /v1/projects': { ok: [200, () => ({})] },
  'GET /v1/projects/{projectId}': {
    ok: [
      200,
      async (w) => {
        const key = projectKey();
        await w.h.call(w.keys['tasks:write'], 'POST', '/v1/projects', { key, name: 'P' });
        return { params: { projectId: key } };
      },
    ],
    missing: () => ({ params: { projectId: 'NOPE' } }),
  },

  'POST /v1/orgs': {
    ok: [201, (w) => json({ id: `org-${w.type().replace(/\W/g, '-')}`, name: 'O' })],
    more: [{ name: 'its id exists', status: 409, request: () => json({ id: 'org-b', name: 'O' }) }],
  },
  'POST /v1/keys': {
    ok: [201, () => json({ name: 'k', scopes: ['tasks:read'] })],
    more: [
      { name: 'root from an admin key', status: 403, request: () => json({ name: 'k', scopes: ['root'] }) },
      {
        name: 'expired already',
        status: 400,
        request: () => json({ name: 'k', scopes: ['tasks:read'], expiresAt: '2001-01-01T00:00:00.000Z' }),
      },
    ],
  },
  'POST /v1/webhooks': {
    ok: [201, () => ({ body: { url: PUBLIC_HOOK, events: ['task.created'] } })],
    more: [
      {
        name: 'a loopback address',
        status: 400,
        request: () => ({ body: { url: 'http://127.0.0.1/hook', events: ['task.created'] } }),
      },
    ],
  },
  'GET /v1/webhooks': { ok: [200, () => ({})] },
  'GET /v1/webhooks/callback-secret': { ok: [200, () => ({})] },
  'GET /v1/webhooks/{webhookId}': {
    ok: [200, async (w) => ({ params: { webhookId: await webhook(w) } })],
    missing: () => ({ params: { webhookId: 'wh_missing' } }),
  },
  'PATCH /v1/webhooks/{webhookId}': {
    ok: [200, async (w) => ({ params: { webhookId: await webhook(w) }, body: { enabled: false } })],
    missing: () => ({ params: { webhookId: 'wh_missing' }, body: { enabled: false } }),
    unprovoked: {
      '409 application/problem+json':
        'the endpoint must change five times between reads and writes of one PATCH; test/webhooks/webhooks.test.ts shows the change kept',
    },
  },
  'DELETE /v1/webhooks/{webhookId}': {
    ok: [204, async (w) => ({ params: { webhookId: await webhook(w) } })],
    missing: () => ({ params: { webhookId: 'wh_missing' } }),
  },
  'GET /v1/webhooks/{webhookId}/deliveries': {
    ok: [200, async (w) => ({ params: { webhookId: await webhook(w) } })],
    missing: () => ({ params: { webhookId: 'wh_missing' } }),
  },
  'POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry': {
    ok: [
      202,
      async (w) => {
        const webhookId = await webhook(w);
        await w.task();
        const page = await w.h.call(w.keys.admin, 'GET', `/v1/webhooks/${webhookId}/deliveries`);
        const deliveryId = page.json<{ items: Array<{ id: string }> }>().items[0]?.id ?? 'none';
        return { params: { webhookId, deliveryId } };
      },
    ],
    missing: () => ({ params: { webhookId: 'wh_missing', deliveryId: 'msg_missing' } }),
  },
  'GET /v1/tasks/{taskId}/deliveries': {
    ok: [200, async (w) => ({ params: { taskId: (await w.task()).id } })],
    // A UUID lists a deleted task's deliveries too; an identifier names a task that exists.
    missing: () => ({ params: { taskId: 'NOPE-999999' } }),
  },
  'POST /v1/tasks/{taskId}/deliveries/{deliveryId}/retry': {
    ok: [
      202,
      async (w) => {
        await webhook(w);
        const taskId = (await w.task()).id;
        const list = await w.h.call(w.keys.admin, 'GET', `/v1/tasks/${taskId}/deliveries`);
        const deliveryId = list.json<{ items: Array<{ id: string }> }>().items[0]?.id ?? 'none';
        return { params: { taskId, deliveryId } };
      },
    ],
    missing: async (w) => ({ params: { taskId: (await w.task()).id, deliveryId: 'msg_missing' } }),
  },
  'GET /v1/keys': { ok: [200, () => ({})] },
  'DELETE /v1/keys/{keyId}': {
    ok: [204, async (w) => ({ params: { keyId: (await w.h.createKey(w.keys.admin, ['tasks:read'])).id } })],
    missing: () => ({ params: { keyId: missingUuid() } }),
    more: [
      {
        name: 'a key revoking itself',
        status: 409,
        request: async (w) => {
          const own = await w.h.createKey(w.keys.admin, ['admin']);
          return { key: own.secret, params: { keyId: own.id } };
        },
      },
    ],
  },
  'GET /v1/org': { ok: [200, () => ({})] },
  'PATCH /v1/org': {
    ok: [200, () => json({ defaults: { maxRetries: 5 } })],
    more: [{ name: 'a default out of range', status: 400, request: () => json({ defaults: { maxRetries: 1000 } }) }],
  },
};

/** heartbeat, complete, fail, release: the same shape, each with a lease. */
function leaseRoutes(): Record<string, OperationCases> {
  const extra: Record<string, Record<string, unknown>> = {
    heartbeat: {},
    complete: {},
    fail: { error: { message: 'm' } },
    release: {},
  };
  // What the service's content rules refuse with 413 (release carries no payload).
  const oversized: Record<string, Record<string, unknown>> = {
    heartbeat: { steps: [{ message: 'm', data: OVER_256_KIB }] },
    complete: { result: OVER_256_KIB },
    fail: { error: { message: 'm', details: OVER_256_KIB } },
  };
  return Object.fromEntries(
    Object.entries(extra).map(([action, more]) => [
      `POST /v1/tasks/{taskId}/${action}`,
      {
        ok: [
          200,
          async (w) => {
            const { task: t, leaseId } = await w.claimed();
            return { params: task(t), ...json({ leaseId, ...more }) };
          },
        ],
        missing: () => ({ params: { taskId: missingUuid() }, ...json({ leaseId: 'l', ...more }) }),
        more: [
          {
            name: 'another lease',
            status: 409,
            request: async (w) => ({ params: task((await w.claimed()).task), ...json({ leaseId: 'other', ...more }) }),
          },
          {
            name: 'canceled meanwhile',
            status: 409,
            request: async (w) => {
              const { task: t, leaseId } = await w.claimed();
              await w.canceled(t);
              return { params: task(t), ...json({ leaseId, ...more }) };
            },
          },
          ...(oversized[action] === undefined ? [] : [tooLarge(oversized[action])]),
        ],
      } satisfies OperationCases,
    ]),
  );
}

/** A report on a task the world claimed, its payload over 256 KiB: the service's 413. */
function tooLarge(body: Record<string, unknown>): Case {
  return {
    name: 'a payload over 256 KiB',
    status: 413,
    request: async (w) => {
      const { task: t, leaseId } = await w.claimed();
      return { params: task(t), ...json({ leaseId, ...body }) };
    },
  };
}

let projects = 0;
const projectKey = () => `P${++projects}`;

/** A create sent once with an Idempotency-Key: the same request, to send again. */
async function replay(w: World, url: string, body: unknown): Promise<Req> {
  const headers = { 'idempotency-key': `replay-${w.type()}` };
  await w.h.call(w.keys['tasks:write'], 'POST', url, body, headers);
  return { ...json(body), headers };
}

/** An Idempotency-Key used once; the request that reuses it with another body. */
async function reused(w: World, url: string, body: unknown): Promise<Req> {
  const headers = { 'idempotency-key': `reused-${w.type()}` };
  await w.h.call(w.keys['tasks:write'], 'POST', url, body, headers);
  return { ...json({ type: w.type() }), headers };
}

/** A create replayed after the task it made was deleted. */
async function orphaned(w: World, kind: 'single' | 'batch'): Promise<Req> {
  const headers = { 'idempotency-key': `orphan-${w.type()}` };
  const body = kind === 'single' ? { type: w.type() } : { tasks: [{ type: w.type() }] };
  const res = await w.h.call(
    w.keys['tasks:write'],
    'POST',
    kind === 'single' ? '/v1/tasks' : '/v1/tasks/batch',
    body,
    headers,
  );
  const made = kind === 'single' ? res.json<WireTask>() : (res.json<{ tasks: WireTask[] }>().tasks[0] as WireTask);
  await w.canceled(made);
  await w.h.call(w.keys['tasks:write'], 'DELETE', `/v1/tasks/${made.id}`);
  return { ...json(body), headers };
}

/** The error answers every operation can be brought to give, from its method, path and security. */
export function genericCases(o: OperationUnderTest, shape: Req): Case[] {
  const cases: Case[] = [];
  const scopes = o.scopes;
  if (!o.public) {
    cases.push({ name: 'no key', status: 401, request: () => ({ ...shape, key: null }) });
    // A route any key may call (GET /v1/whoami) has no key to refuse.
    const lacking = lackingScope(scopes);
    if (lacking !== undefined) {
      cases.push({
        name: 'a key without its scope',
        status: 403,
        request: (w) => ({ ...shape, key: w.keys[lacking] }),
      });
    }
    cases.push({
      name: 'storage gone',
      status: 503,
      app: 'broken',
      request: () => ({ ...shape, key: `tl_${'Z'.repeat(40)}` }),
    });
    cases.push({ name: 'over the rate limit', status: 429, app: 'limited', request: (w) => burnt(w, o, shape) });
  }
  for (const p of o.pathParams) {
    const params = (value: string) => ({ ...shape, params: { ...shape.params, [p.name]: value } });
    cases.push({ name: `${p.name} of 201 characters`, status: 414, request: () => params('x'.repeat(201)) });
    cases.push({ name: `${p.name} not percent-encoded`, status: 400, request: () => params('%zz') });
    const max = p.maxLength;
    if (max !== undefined && max < 200) {
      cases.push({ name: `${p.name} over ${max} characters`, status: 400, request: () => params('x'.repeat(max + 1)) });
    }
  }
  if (o.method !== 'GET') {
    const raw =
      (payload: string, headers: Record<string, string> = {}) =>
      () => ({ ...shape, payload, headers });
    cases.push({ name: 'not JSON', status: 400, request: raw('{') });
    cases.push({ name: 'a NUL in the body', status: 400, request: raw('{"x":"\\u0000"}') });
    cases.push({ name: 'a body over 1 MiB', status: 413, request: raw(LARGE) });
    cases.push({ name: 'text/plain', status: 415, request: raw('x', { 'content-type': 'text/plain' }) });
  }
  return cases;
}

/** A key of the rate-limited app that has spent its burst (2 requests) already. */
async function burnt(w: World, o: OperationUnderTest, shape: Req): Promise<Req> {
  const key = (
    await w.limited.services.auth.createKey(
      { orgId: 'default', keyId: 'x', keyName: 'x', scopes: ['root', 'admin'] },
      { name: 'limited', scopes: ['tasks:read'] },
    )
  ).secret;
  // With the success request's query and headers: an event stream's asks for the page, which ends.
  const req: Req = {
    params: shape.params ?? {},
    key,
    ...(shape.query === undefined ? {} : { query: shape.query }),
    ...(shape.headers === undefined ? {} : { headers: shape.headers }),
  };
  for (let i = 0; i < 2; i++) await w.send(o, req, w.limited);
  return req;
}

/** The ok request's key: one holding exactly the first scope the document names. */
export function okKey(w: World, o: OperationUnderTest): string | null {
  const [scope] = o.scopes;
  return scope === undefined ? null : w.keys[scope];
}
