/**
 * A generative test over the served OpenAPI document (SPEC §4, §5, §8, §9, §11). For every operation:
 * valid requests built from its schemas, then one hostile value at a time in every body field (at
 * every depth), query parameter, path parameter and interesting header; plus a fixed list of dialect
 * routes with hostile path and query values. Every answer must be below 500, every error the
 * catalogue's problem+json (or the dialect's own error shape), a value no backend can keep must be
 * refused, and the server must still answer after each batch. The same request list runs on SQLite
 * and, when TASKLANE_TEST_PG_URL is set, on PostgreSQL, and both must answer the same status to each.
 *
 * Deterministic: the seed is fixed (TASKLANE_FUZZ_SEED replays another) and printed with any failure.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeCursor } from '../../src/service/cursor.js';
import {
  BULK_TYPE,
  CLAIMABLE_TYPE,
  LIST_ID,
  postgresBackend,
  ref,
  sqliteBackend,
  type FuzzBackend,
} from '../helpers/fuzz-backend.js';
import { check, report, signature, type Answer, type Failure } from '../helpers/fuzz-oracles.js';
import { planDocument, type Batch, type OperationOverrides, type PlannedRequest } from '../helpers/fuzz-plan.js';
import { URL_HOSTILES } from '../helpers/hostile-values.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';

const SEED = Number(process.env.TASKLANE_FUZZ_SEED ?? 20260101);
const REPLAY = `TASKLANE_FUZZ_SEED=${SEED} npx vitest run packages/server/test/http/openapi-fuzz.test.ts`;

/** The id of a task (or key) no earlier request touched: `queued`, `working` (leased), `canceled`, `key`. */
const fresh = (kind: string) => fc.constant(ref(`fresh.${kind}.id`));
const freshLease = fc.constant(ref('fresh.working.lease'));
const sharedTask = fc.constantFrom(
  ...['queued', 'backlog', 'running', 'completed', 'canceled'].map((s) => ref(`${s}.id`)),
);
const project = fc.constantFrom(ref('project.id'), ref('project.key'));
/** The worker routes act on a task in progress, with its lease. */
const WORKER: OperationOverrides = { params: { taskId: fresh('working') }, body: { '/leaseId': freshLease } };

/** SPEC §4: `runAt` or `delayMs`, not both. */
const oneStart = (task: unknown): boolean => {
  const t = task as Record<string, unknown>;
  return t.runAt === undefined || t.delayMs === undefined;
};

/**
 * Where a request needs a real thing to reach past a 404: tasks (a fresh one for each request that
 * changes its task; the leased ones for the worker routes), the project, the list. Long-polls never
 * wait (wait=0, waitMs=0).
 */
const OVERRIDES: Record<string, OperationOverrides> = {
  'POST /v1/tasks': {
    body: { '/dependsOn/*': sharedTask, '/projectId': project, '/listId': fc.constant(LIST_ID) },
    bodyFilter: (b) => oneStart(b),
  },
  'POST /v1/tasks/batch': {
    body: {
      '/tasks/*/dependsOn/*': sharedTask,
      '/tasks/*/projectId': project,
      '/tasks/*/listId': fc.constant(LIST_ID),
    },
    bodyFilter: (b) => ((b as { tasks: unknown[] }).tasks ?? []).every(oneStart),
  },
  // By id, a task nothing else uses; by filter, only the tasks kept for it, after a cursor of the
  // server's form (the newest UUIDv7 there can be, so every task is older).
  'POST /v1/tasks/bulk': {
    body: {
      '/ids/*': fresh('queued'),
      '/filter/type': fc.constant(BULK_TYPE),
      '/cursor': fc.constant(encodeCursor('ffffffff-ffff-7fff-bfff-ffffffffffff')),
    },
  },
  'GET /v1/tasks': { params: { listId: fc.constant(LIST_ID) }, omit: ['cursor'] },
  'GET /v1/tasks/{taskId}': { params: { taskId: sharedTask, wait: fc.constant(0) }, headers: ['if-none-match'] },
  'PATCH /v1/tasks/{taskId}': { params: { taskId: fresh('queued') }, headers: ['if-match'] },
  'DELETE /v1/tasks/{taskId}': { params: { taskId: fresh('canceled') } },
  'GET /v1/tasks/{taskId}/steps': { params: { taskId: sharedTask } },
  // The page form: a stream would never end, and inject() waits for the end.
  'GET /v1/events': { always: { accept: 'application/json' } },
  'GET /v1/tasks/{taskId}/events': { params: { taskId: sharedTask }, always: { accept: 'application/json' } },
  'POST /v1/tasks/{taskId}/steps': WORKER,
  'POST /v1/tasks/{taskId}/{action}': { params: { taskId: fresh('queued') } },
  'POST /v1/tasks/claim': { body: { '/types/*': fc.constant(CLAIMABLE_TYPE), '/waitMs': fc.constant(0) } },
  'POST /v1/tasks/reports': { body: { '/reports/*/taskId': fresh('working'), '/reports/*/leaseId': freshLease } },
  'POST /v1/tasks/{taskId}/claim': { params: { taskId: fresh('queued') } },
  'POST /v1/tasks/{taskId}/heartbeat': WORKER,
  'POST /v1/tasks/{taskId}/complete': WORKER,
  'POST /v1/tasks/{taskId}/fail': WORKER,
  'POST /v1/tasks/{taskId}/release': WORKER,
  'GET /v1/lists/{listId}': { params: { listId: fc.constant(LIST_ID) } },
  'GET /v1/projects/{projectId}': { params: { projectId: project } },
  'DELETE /v1/keys/{keyId}': { params: { keyId: fresh('key') } },
};

/** Dialect routes (not in the document): each with a valid value for its slot, then every hostile one. */
const DIALECT_ROUTES: ReadonlyArray<{
  dialect: string;
  method: PlannedRequest['method'];
  url: (x: string) => string;
  valid: string;
}> = [
  {
    dialect: 'mindfort',
    method: 'GET',
    url: (x) => `/compat/mindfort/v1/tasks/default::${x}`,
    valid: ref('queued.id'),
  },
  {
    dialect: 'mindfort',
    method: 'GET',
    url: (x) => `/compat/mindfort/v1/tasks/${x}`,
    valid: `default::${ref('queued.id')}`,
  },
  {
    dialect: 'mindfort',
    method: 'POST',
    url: (x) => `/compat/mindfort/v1/tasks/default::${x}/cancel`,
    valid: ref('fresh.queued.id'),
  },
  { dialect: 'capy', method: 'GET', url: (x) => `/compat/capy/v1/tasks/${x}`, valid: ref('queued.id') },
  { dialect: 'capy', method: 'POST', url: (x) => `/compat/capy/v1/tasks/${x}/stop`, valid: ref('fresh.queued.id') },
  { dialect: 'conductor', method: 'GET', url: (x) => `/compat/conductor/api/tasks/${x}`, valid: ref('running.id') },
  { dialect: 'conductor', method: 'GET', url: (x) => `/compat/conductor/api/tasks/${x}/log`, valid: ref('running.id') },
  { dialect: 'conductor', method: 'GET', url: (x) => `/compat/conductor/api/tasks/poll/${x}`, valid: 'fuzz.none' },
  {
    dialect: 'conductor',
    method: 'GET',
    url: (x) => `/compat/conductor/api/tasks/poll/batch/${CLAIMABLE_TYPE}?count=${x}&timeout=0`,
    valid: '1',
  },
  {
    dialect: 'conductor',
    method: 'GET',
    url: (x) => `/compat/conductor/api/tasks/poll/fuzz.none?workerid=${x}`,
    valid: 'w1',
  },
  {
    dialect: 'quant',
    method: 'GET',
    url: (x) => `/compat/quant/api/v3/organizations/default/ai/tasks/${x}`,
    valid: ref('queued.id'),
  },
  { dialect: 'quant', method: 'GET', url: (x) => `/compat/quant/api/v3/organizations/${x}/ai/tasks`, valid: 'default' },
  {
    dialect: 'quant',
    method: 'DELETE',
    url: (x) => `/compat/quant/api/v3/organizations/default/ai/tasks/${x}`,
    valid: ref('fresh.canceled.id'),
  },
  { dialect: 'guardian', method: 'GET', url: (x) => `/compat/guardian/tasks/${x}`, valid: ref('completed.id') },
];

function dialectBatch(): Batch {
  const requests: PlannedRequest[] = [];
  for (const r of DIALECT_ROUTES) {
    const op = `${r.method} ${r.url('{x}')}`;
    const body = r.method === 'POST' ? { body: '{}' } : {};
    requests.push({
      op,
      method: r.method,
      url: r.url(r.valid),
      headers: {},
      where: 'dialect',
      dialect: r.dialect,
      ...body,
    });
    for (const [hostile, value] of URL_HOSTILES) {
      requests.push({
        op,
        method: r.method,
        url: r.url(value),
        headers: {},
        where: 'dialect',
        field: '{x}',
        hostile,
        dialect: r.dialect,
        ...body,
      });
    }
  }
  return { name: 'dialects', requests };
}

interface Run {
  answers: Answer[];
  failures: Failure[];
  ms: number;
}

async function send(b: FuzzBackend, req: PlannedRequest): Promise<Answer> {
  const local = new Map<string, Record<string, string>>();
  const url = await b.resolve(req.url, local);
  const headers: Record<string, string> = { authorization: `Bearer ${b.key}` };
  for (const [k, v] of Object.entries(req.headers)) headers[k] = await b.resolve(v, local);
  const body = req.body === undefined ? undefined : await b.resolve(req.body, local);
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await b.app.inject({
      method: req.method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    return {
      status: res.statusCode,
      contentType: String(res.headers['content-type'] ?? ''),
      requestId: String(res.headers['x-request-id'] ?? ''),
      body: res.body,
    };
  } catch (err) {
    return { status: 0, contentType: '', requestId: '', body: `inject threw: ${String(err)}` };
  }
}

/** Every request of every batch, in order; after each batch, the server must still answer. */
async function runAll(b: FuzzBackend, batches: readonly Batch[]): Promise<Run> {
  const started = Date.now();
  const answers: Answer[] = [];
  const failures: Failure[] = [];
  for (const batch of batches) {
    for (const req of batch.requests) {
      const answer = await send(b, req);
      answers.push(answer);
      for (const rule of check(req, answer)) failures.push({ rule, request: req, answer, backend: b.name });
    }
    for (const probe of ['/healthz', '/v1/tasks?limit=1']) {
      const req: PlannedRequest = {
        op: `GET ${probe} after ${batch.name}`,
        method: 'GET',
        url: probe,
        headers: {},
        where: 'valid',
      };
      const answer = await send(b, req);
      if (answer.status !== 200) failures.push({ rule: 'unresponsive', request: req, answer, backend: b.name });
    }
  }
  return { answers, failures, ms: Date.now() - started };
}

const PG_SKIPPED = 'PostgreSQL skipped: set TASKLANE_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)';
const pgSchemas = pgUrl() === null ? null : freshSchema('openapi-fuzz');

describe(`OpenAPI fuzz (seed ${SEED})`, () => {
  let sqlite: FuzzBackend;
  let postgres: FuzzBackend | null = null;
  let batches: Batch[];
  const runs = new Map<string, Run>();

  beforeAll(async () => {
    sqlite = await sqliteBackend();
    if (pgSchemas !== null) postgres = await postgresBackend(pgSchemas);
    const doc = (await sqlite.app.inject({ method: 'GET', url: '/openapi.json' })).json<
      Parameters<typeof planDocument>[0]
    >();
    batches = [
      ...planDocument(doc, { seed: SEED, validRuns: 8, runsPerField: 2, overrides: OVERRIDES }),
      dialectBatch(),
    ];
  });
  afterAll(async () => {
    await sqlite?.cleanup();
    await postgres?.cleanup();
  });

  const expectClean = (name: string, run: Run) => {
    const total = batches.reduce((n, b) => n + b.requests.length, 0);
    console.info(`openapi-fuzz ${name}: ${total} requests in ${run.ms} ms`);
    if (run.failures.length > 0) {
      throw new Error(report(run.failures, `OpenAPI fuzz on ${name}, ${total} requests (replay: ${REPLAY})`));
    }
  };

  test('covers every operation of the document', () => {
    const names = batches.map((b) => b.name);
    expect(names).toContain('POST /v1/tasks');
    expect(names.length).toBeGreaterThan(25);
    for (const b of batches) expect(b.requests.length, b.name).toBeGreaterThan(0);
  });

  test('sqlite: no 5xx, catalogue errors, hostile values refused, still answering', { timeout: 120_000 }, async () => {
    const run = await runAll(sqlite, batches);
    runs.set('sqlite', run);
    expectClean('sqlite', run);
  });

  test.skipIf(pgSchemas === null)(
    pgSchemas === null
      ? `postgres: ${PG_SKIPPED}`
      : 'postgres: no 5xx, catalogue errors, hostile values refused, still answering',
    { timeout: 120_000 },
    async () => {
      if (postgres === null) throw new Error('no PostgreSQL backend');
      const run = await runAll(postgres, batches);
      runs.set('postgres', run);
      expectClean('postgres', run);
    },
  );

  test.skipIf(pgSchemas === null)(
    pgSchemas === null
      ? `sqlite and postgres answer the same status to each request: ${PG_SKIPPED}`
      : 'sqlite and postgres answer the same status to each request',
    () => {
      const a = runs.get('sqlite');
      const b = runs.get('postgres');
      if (a === undefined || b === undefined) throw new Error('both backend runs must have finished');
      const requests = batches.flatMap((x) => x.requests);
      const failures: Failure[] = [];
      requests.forEach((req, i) => {
        const x = a.answers[i];
        const y = b.answers[i];
        if (x === undefined || y === undefined || x.status === y.status) return;
        const [sx, sy] = signature(x) === signature(y) ? [x.status, y.status] : [signature(x), signature(y)];
        const note = `sqlite ${sx}, postgres ${sy}`;
        failures.push({
          rule: 'parity',
          note,
          request: req,
          answer: y,
          backend: 'postgres',
          other: { backend: 'sqlite', answer: x },
        });
      });
      if (failures.length > 0)
        throw new Error(report(failures, `OpenAPI fuzz, sqlite vs postgres (replay: ${REPLAY})`));
    },
  );
});
