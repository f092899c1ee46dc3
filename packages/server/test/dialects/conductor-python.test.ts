/**
 * What the Conductor Python SDK (conductor-python) tripped over, each case a regression test that
 * drives the dialect the way the SDK does, in raw HTTP: `POST /token`, then `X-Authorization: <token>`,
 * JSON bodies as its api_client writes them (fields it has no value for left out), and a task log
 * line as `json.dumps(line).strip('"')` under `Content-Type: application/json`. On SQLite and
 * PostgreSQL.
 *
 * - a TaskResult with a 600 KB outputData completed the task and stored it: now 413 in Conductor's
 *   error shape, and nothing stored;
 * - a TaskResult's logs and its status were separate units: a failure halfway kept the logs;
 * - add_task_log's bare text was 400 MALFORMED_JSON;
 * - a TaskResult whose workerId was not the polling worker's was 409 LEASE_LOST (the SDK retried for
 *   a minute); an update of a task no longer in progress now answers as Conductor does (ignored);
 * - the queue monitoring endpoints and the update by workflow and reference name were route misses.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Response, WireTask } from '../helpers/http-harness.js';
import { appOver, eventsOf, failingAt } from '../helpers/store-faults.js';
import { edgeBackends, type EdgeApp } from '../http/edge-backends.js';

const BASE = '/compat/conductor/api';
const ORG = 'default';

/** Python's json.dumps (ensure_ascii: every character past ASCII as \uXXXX escapes). */
const pyJsonDumps = (s: string): string =>
  JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** What conductor-python's rest client sends for a str body: json.dumps(body).strip('"'). */
const pyLogBody = (line: string): string => pyJsonDumps(line).replace(/^"+|"+$/g, '');

interface ConductorError {
  status: number;
  code: string;
  message: string;
  instance: string;
  retryable: boolean;
  validationErrors?: Array<{ path: string; message: string }>;
}

describe.each(edgeBackends('conductor-python'))('the Conductor Python SDK, on $name', (backend) => {
  let e: EdgeApp;
  let token: string;
  let n = 0;
  const freshType = () => `py_task_${++n}`;

  beforeAll(async () => {
    e = await backend.open();
    const key = (await e.call('POST', '/v1/keys', { name: 'py-worker', scopes: ['tasks:read', 'tasks:work'] })).json<{
      id: string;
      secret: string;
    }>();
    // CONDUCTOR_AUTH_KEY / CONDUCTOR_AUTH_SECRET: the SDK asks for a token first.
    const res = await e.app.inject({
      method: 'POST',
      url: `${BASE}/token`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      payload: JSON.stringify({ keyId: key.id, keySecret: key.secret }),
    });
    token = res.json<{ token: string }>().token;
  });
  afterAll(() => e.cleanup());

  /** One request as the SDK's api_client makes it. */
  const sdk = (method: 'GET' | 'POST', url: string, body?: string, app: FastifyInstance = e.app): Promise<Response> =>
    app.inject({
      method,
      url: `${BASE}${url}`,
      headers: {
        'x-authorization': token,
        accept: 'application/json',
        'user-agent': 'conductor-python',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: body }),
    });

  /** A TaskResult as the SDK's TaskRunner builds it (None fields left out; extendLease false). */
  const taskResult = (task: { taskId: string }, fields: Record<string, unknown>) =>
    JSON.stringify({
      workflowInstanceId: task.taskId,
      taskId: task.taskId,
      workerId: 'py-host-1',
      extendLease: false,
      ...fields,
    });

  /** A queued task of a fresh type, polled by the SDK (batch_poll, count 1) as `workerId`. */
  async function polled(workerId = 'py-host-1', body: Record<string, unknown> = {}) {
    const type = freshType();
    const created = (await e.call('POST', '/v1/tasks', { type, input: { n: 1 }, ...body })).json<WireTask>();
    const res = await sdk('GET', `/tasks/poll/batch/${type}?workerid=${workerId}&count=1&timeout=100`);
    expect(res.statusCode, res.body).toBe(200);
    const [task] = res.json<Array<{ taskId: string; status: string }>>();
    expect(task?.taskId).toBe(created.id);
    return { type, taskId: created.id, before: await native(created.id) };
  }

  const native = async (id: string): Promise<WireTask> => (await e.call('GET', `/v1/tasks/${id}`)).json<WireTask>();

  function conductorError(res: Response, status: number, code: string): ConductorError {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<ConductorError>();
    expect(body).toMatchObject({ status, code, instance: 'tasklane', retryable: false });
    expect(body.message).toEqual(expect.any(String));
    return body;
  }

  test('a TaskResult with a 600 KB outputData is 413 in Conductor’s error shape, and nothing is stored', async () => {
    const t = await polled();
    const res = await sdk(
      'POST',
      '/tasks',
      taskResult(t, {
        status: 'COMPLETED',
        outputData: { report: 'x'.repeat(600_000) },
        logs: [{ log: 'rendered the report', taskId: t.taskId, createdTime: Date.now() }],
      }),
    );
    const body = conductorError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(body.validationErrors).toEqual([{ path: '/outputData', message: 'larger than 262144 bytes' }]);
    expect(body.message).toMatch(/^\/outputData is \d+ bytes/);
    expect(await native(t.taskId)).toEqual(t.before);
    expect(await eventsOf(e.store, ORG, t.taskId)).toEqual(['task.created v1', 'task.status_changed v2']);
  });

  test('a TaskResult’s logs and its completion are one unit: storage failing halfway leaves neither', async () => {
    const t = await polled();
    // The logs are appended, then the task's row write fails: the unit rolls back whole.
    const broken = await appOver(failingAt(e.store, 'updateTasks'));
    try {
      const body = taskResult(t, {
        status: 'COMPLETED',
        outputData: { ok: true },
        logs: [
          { log: 'step 1', taskId: t.taskId, createdTime: Date.now() },
          { log: 'step 2', taskId: t.taskId, createdTime: Date.now() },
        ],
      });
      const res = await sdk('POST', '/tasks', body, broken);
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toMatch(/EIO|disk/);
    } finally {
      await broken.close();
    }
    expect(await native(t.taskId)).toEqual(t.before);
    expect(await eventsOf(e.store, ORG, t.taskId)).toEqual(['task.created v1', 'task.status_changed v2']);
    // The same report on healthy storage: both, in one change of the task.
    const res = await sdk(
      'POST',
      '/tasks',
      taskResult(t, {
        status: 'COMPLETED',
        outputData: { ok: true },
        logs: [{ log: 'step 1', taskId: t.taskId, createdTime: Date.now() }, { log: 'step 2' }],
      }),
    );
    expect(res.statusCode, res.body).toBe(200);
    const after = await native(t.taskId);
    expect(after).toMatchObject({ status: 'completed', result: { ok: true }, version: t.before.version + 2 });
    expect(after.steps.map((s) => s.message)).toEqual(['step 1', 'step 2']);
    // The two logs are one change of the task (v3), with an event each.
    expect(await eventsOf(e.store, ORG, t.taskId)).toEqual([
      'task.created v1',
      'task.status_changed v2',
      'task.step v3',
      'task.step v3',
      'task.status_changed v4',
    ]);
  });

  test('add_task_log: bare text (json.dumps with the quotes stripped) and a JSON string both become the step', async () => {
    const t = await polled();
    const lines = [
      'Fetching page 1',
      'caf\u00e9 \u{1F600} done',
      'said "hi"',
      '"quoted line"',
      'C:\\temp\\new ends with \\',
      'tab\there',
    ];
    for (const line of lines) {
      const res = await sdk('POST', `/tasks/${t.taskId}/log`, pyLogBody(line));
      expect(res.statusCode, `${pyLogBody(line)}: ${res.body}`).toBe(200);
    }
    // A JSON string (what the JavaScript SDK sends), and text that is not the inside of a JSON string.
    expect((await sdk('POST', `/tasks/${t.taskId}/log`, JSON.stringify('from JS'))).statusCode).toBe(200);
    expect((await sdk('POST', `/tasks/${t.taskId}/log`, 'raw "text" with a \\q')).statusCode).toBe(200);
    const logs = (await sdk('GET', `/tasks/${t.taskId}/log`)).json<Array<{ log: string }>>();
    expect(logs.map((l) => l.log)).toEqual([...lines, 'from JS', 'raw "text" with a \\q']);
    // Still the text rule and the body limit: an escaped lone surrogate, NUL, nothing, over 1 MiB.
    for (const [body, status] of [
      ['bad \\ud800 escape', 400],
      ['nul\u0000', 400],
      ['', 400],
      ['x'.repeat(1024 * 1024 + 1), 413],
    ] as const) {
      expect((await sdk('POST', `/tasks/${t.taskId}/log`, body)).statusCode, body.slice(0, 20)).toBe(status);
    }
    expect((await native(t.taskId)).steps).toHaveLength(lines.length + 2);
  });

  test('add_task_log keeps JSON parsing strict everywhere else: bare text to POST /tasks is still 400', async () => {
    const t = await polled();
    const res = await sdk('POST', '/tasks', 'COMPLETED');
    conductorError(res, 400, 'MALFORMED_JSON');
    expect(await native(t.taskId)).toEqual(t.before);
  });

  test('a TaskResult with another workerId than the poll’s is taken; the reporter becomes the worker', async () => {
    const t = await polled('py-host-1');
    const res = await sdk(
      'POST',
      '/tasks',
      taskResult(t, { workerId: 'py-host-2', status: 'COMPLETED', outputData: { by: 'py-host-2' } }),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe(t.taskId);
    expect(await native(t.taskId)).toMatchObject({
      status: 'completed',
      assignee: 'py-host-2',
      result: { by: 'py-host-2' },
    });
    expect((await sdk('GET', `/tasks/${t.taskId}`)).json()).toMatchObject({
      status: 'COMPLETED',
      workerId: 'py-host-2',
    });
  });

  test('a TaskResult on a task no longer IN_PROGRESS answers 200 and changes nothing, as Conductor does', async () => {
    const t = await polled();
    const done = taskResult(t, { status: 'COMPLETED', outputData: { n: 1 } });
    expect((await sdk('POST', '/tasks', done)).statusCode).toBe(200);
    const completed = await native(t.taskId);
    // A retry of the same update (the SDK retries when an answer is lost), and a late failure with logs.
    expect((await sdk('POST', '/tasks', done)).statusCode).toBe(200);
    const late = taskResult(t, { status: 'FAILED', reasonForIncompletion: 'late', logs: [{ log: 'late log' }] });
    const res = await sdk('POST', '/tasks/update-v2', late);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toBe('null');
    expect(await native(t.taskId)).toEqual(completed);
    // A task no one polled yet: SCHEDULED in Conductor's terms, untouched too. A missing one is 404.
    const queued = (await e.call('POST', '/v1/tasks', { type: freshType() })).json<WireTask>();
    expect((await sdk('POST', '/tasks', taskResult({ taskId: queued.id }, { status: 'COMPLETED' }))).statusCode).toBe(
      200,
    );
    expect(await native(queued.id)).toEqual(queued);
    const missing = '01900000-0000-7000-8000-000000000000';
    conductorError(
      await sdk('POST', '/tasks', taskResult({ taskId: missing }, { status: 'COMPLETED' })),
      404,
      'NOT_FOUND',
    );
  });

  test('GET /tasks/queue/sizes: queued tasks by type, { "<taskType>": <count> }', async () => {
    const [a, b, none] = [freshType(), freshType(), freshType()];
    for (let i = 0; i < 3; i++) await e.call('POST', '/v1/tasks', { type: a });
    await e.call('POST', '/v1/tasks', { type: b, delayMs: 3_600_000 });
    await e.call('POST', '/v1/tasks', { type: b, start: false });
    await sdk('GET', `/tasks/poll/batch/${a}?workerid=py-host-1&count=1&timeout=0`);
    const res = await sdk('GET', `/tasks/queue/sizes?taskType=${a}&taskType=${b}&taskType=${none}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ [a]: 2, [b]: 1, [none]: 0 });
    expect((await sdk('GET', `/tasks/queue/sizes?taskType=${a}`)).json()).toEqual({ [a]: 2 });
    expect((await sdk('GET', `/tasks/queue/size?taskType=${b}`)).json()).toBe(1);
  });

  test('GET /tasks/queue/polldata: the last poll of each worker and domain, [{queueName, domain, workerId, lastPollTime}]', async () => {
    const type = freshType();
    const started = Date.now();
    await sdk('GET', `/tasks/poll/batch/${type}?workerid=py-host-1&count=1&timeout=0`);
    await sdk('GET', `/tasks/poll/${type}?workerid=py-host-2&domain=eu`);
    // A native worker polls the same queue.
    await e.call('POST', '/v1/tasks/claim', { types: [type], workerId: 'native-1' });
    const res = await sdk('GET', `/tasks/queue/polldata?taskType=${type}`);
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json<Array<{ queueName: string; domain?: string; workerId: string; lastPollTime: number }>>();
    expect(data.map(({ lastPollTime: _t, ...rest }) => rest)).toEqual([
      { queueName: type, workerId: 'native-1' },
      { queueName: type, domain: 'eu', workerId: 'py-host-2' },
      { queueName: type, workerId: 'py-host-1' },
    ]);
    for (const d of data) {
      expect(d.lastPollTime).toBeGreaterThanOrEqual(started);
      expect(d.lastPollTime).toBeLessThanOrEqual(Date.now());
    }
    expect((await sdk('GET', `/tasks/queue/polldata?taskType=${freshType()}`)).json()).toEqual([]);
    // Another org's view of the same type is its own.
    const other = (await e.call('POST', '/v1/orgs', { id: `py-other-${backend.name}`, name: 'Other' })).json<{
      adminKey: { secret: string };
    }>();
    const theirs = await e.app.inject({
      method: 'GET',
      url: `${BASE}/tasks/queue/polldata?taskType=${type}`,
      headers: { 'x-authorization': other.adminKey.secret },
    });
    expect(theirs.json()).toEqual([]);
  });

  test('update_task_by_ref_name (POST /tasks/{workflowId}/{taskRefName}/{status}) is Conductor’s 404 for no running task of that workflow', async () => {
    const t = await polled();
    for (const url of [
      `/tasks/${t.taskId}/ref_1/COMPLETED?workerid=py-host-1`,
      `/tasks/wf-1/ref_1/COMPLETED/sync?workerid=py-host-1`,
    ]) {
      const res = await sdk('POST', url, JSON.stringify({ ok: true }));
      const workflowId = url.split('/')[2] ?? '';
      expect(conductorError(res, 404, 'NOT_FOUND').message).toBe(
        `Found no running task ref_1 of workflow ${workflowId} to update`,
      );
    }
    expect(await native(t.taskId)).toEqual(t.before);
  });
});
