/**
 * Capy at /compat/capy (seed 001): the GET answer is exactly the seed's `Task` (its schema declares
 * additionalProperties: false) for a task in every native status, by UUID and by identifier; SPEC §11's
 * Capy map row by row; 401/403/404/422/500 as `{error: {code, message, details}}`; create and stop.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, missingUuid, type Harness, type Response } from '../helpers/http-harness.js';
import { CASES, tasksInEveryStatus, type Case, type Fixture } from './helpers/fixtures.js';
import { makeValidator, openApiSchemas, seedText } from './helpers/seeds.js';

const BASE = '/compat/capy';
const seed = openApiSchemas(seedText('001'));
const ajv = makeValidator();
const validTask = ajv.compile(seed.Task ?? {});
const validError = ajv.compile(seed.ErrorResponse ?? {});

/** SPEC §11: backlog/blocked → backlog, failed → error, canceled or archived → archived, the rest as is. */
const EXPECTED: Record<Case, string> = {
  backlog: 'backlog',
  blocked_by_dependency: 'backlog',
  blocked_manually: 'backlog',
  queued: 'queued',
  in_progress: 'in_progress',
  needs_review: 'needs_review',
  completed: 'completed',
  failed_terminal: 'error',
  failed_retries_spent: 'error',
  failed_timed_out: 'error',
  canceled: 'archived',
  archived: 'archived',
};

let h: Harness;
let fx: Record<Case, Fixture>;
let projectTask: { id: string; identifier: string; projectId: string };
beforeAll(async () => {
  h = await makeHarness();
  fx = await tasksInEveryStatus(h, h.a.admin, h.a.orgId);
  const project = await h.call(h.a.admin, 'POST', '/v1/projects', { key: 'CAP', name: 'Capy project' });
  expect(project.statusCode, project.body).toBe(201);
  const t = await h.createTask(h.a.admin, { type: 'x', projectId: 'CAP', description: 'Fix the flaky test' });
  projectTask = { id: t.id, identifier: t.identifier ?? '', projectId: t.projectId ?? '' };
});
afterAll(() => h.cleanup());

const get = (key: string | null, ref: string) => h.call(key, 'GET', `${BASE}/v1/tasks/${encodeURIComponent(ref)}`);

function expectError(res: Response, status: number, code: string): { code: string; message: string; details: unknown } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<{ error: { code: string; message: string; details: unknown } }>();
  expect(validError(body), JSON.stringify(validError.errors)).toBe(true);
  expect(body.error.code).toBe(code);
  expect(body.error).toHaveProperty('details');
  return body.error;
}

describe('GET /v1/tasks/{taskId}', () => {
  test.each(CASES)('%s: exactly the seed Task, status mapped', async (c) => {
    const res = await get(h.a.admin, fx[c].id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(validTask(body), JSON.stringify(validTask.errors)).toBe(true);
    expect(body.status).toBe(EXPECTED[c]);
    expect(body).toMatchObject({ id: fx[c].id, title: fx[c].task.title, prompt: `Do the ${c} thing` });
  });

  test('by identifier: the same task, with its project and identifier; the prompt falls back to the description', async () => {
    const byId = (await get(h.a.admin, projectTask.id)).json<Record<string, unknown>>();
    const byIdentifier = await get(h.a.admin, projectTask.identifier);
    expect(byIdentifier.statusCode).toBe(200);
    expect(byIdentifier.json()).toEqual(byId);
    expect(byId).toMatchObject({
      identifier: projectTask.identifier,
      projectId: projectTask.projectId,
      prompt: 'Fix the flaky test',
    });
    expect(validTask(byId)).toBe(true);
  });
});

describe('the seed documents codes', () => {
  test('401 without a key or with a bad one', async () => {
    for (const key of [null, 'capy_xxxx', `tl_${'y'.repeat(40)}`])
      expectError(await get(key, fx.queued.id), 401, 'unauthorized');
  });

  test('403 for a key without the scope', async () => {
    const worker = await h.createKey(h.a.admin, ['tasks:work']);
    expectError(await get(worker.secret, fx.queued.id), 403, 'forbidden');
    expectError(await h.call(worker.secret, 'POST', `${BASE}/v1/tasks/${fx.queued.id}/stop`, {}), 403, 'forbidden');
  });

  test('404 for a missing task and for another org’s, alike (UUID and identifier)', async () => {
    const missing = expectError(await get(h.a.admin, missingUuid()), 404, 'not_found');
    const foreign = expectError(await get(h.b.admin, fx.queued.id), 404, 'not_found');
    const foreignIdentifier = expectError(await get(h.b.admin, projectTask.identifier), 404, 'not_found');
    expect(foreign).toEqual(missing);
    expect(foreignIdentifier).toEqual(missing);
  });

  test('422 for an id that is neither a UUID nor an identifier', async () => {
    for (const bad of ['not-an-id', 'ops-1', '12345', 'A-1']) {
      const err = expectError(await get(h.a.admin, bad), 422, 'validation_error');
      expect(err.message).toMatch(/UUID or an identifier/);
    }
  });

  test('500 when storage fails, with no internals', async () => {
    const down = await makeHarness();
    try {
      const t = await down.createTask(down.a.admin);
      await down.store.close();
      const err = expectError(await down.call(down.a.admin, 'GET', `${BASE}/v1/tasks/${t.id}`), 500, 'internal_error');
      expect(err.message).toBe('Unexpected server error');
    } finally {
      await down.cleanup();
    }
  });

  test('500 for an unexpected failure in a write', async () => {
    h.failNextWrite(new Error('disk I/O error at /var/lib/tasklane.db'));
    const res = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks`, { projectId: 'CAP', prompt: 'x' });
    expectError(res, 500, 'internal_error');
    expect(res.body).not.toMatch(/disk|tasklane\.db/);
  });

  test('an unknown route under the prefix answers in Capy shape', async () => {
    expectError(await h.call(h.a.admin, 'GET', `${BASE}/v1/threads`), 404, 'not_found');
  });
});

describe('POST /v1/tasks and POST /v1/tasks/{taskId}/stop', () => {
  test('create: backlog unless started; prompt, title, project and labels land on the native task', async () => {
    const res = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks`, {
      projectId: 'CAP',
      prompt: 'Add a login page\nwith email and password',
      labels: ['web'],
      repos: [{ repoFullName: 'acme/web', branch: 'main' }],
      model: 'auto',
    });
    expect(res.statusCode, res.body).toBe(200);
    const created = res.json<Record<string, string>>();
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'id', 'identifier', 'projectId', 'status', 'title']);
    expect(created).toMatchObject({ projectId: projectTask.projectId, title: 'Add a login page', status: 'backlog' });
    expect(created.identifier).toMatch(/^CAP-\d+$/);
    const native = await h.getTask(h.a.admin, created.id ?? '');
    expect(native).toMatchObject({ type: 'capy.task', status: 'backlog', labels: ['web'] });
    expect(native.input).toMatchObject({ prompt: 'Add a login page\nwith email and password', model: 'auto' });
    const fetched = (await get(h.a.admin, created.identifier ?? '')).json<Record<string, unknown>>();
    expect(validTask(fetched)).toBe(true);
    expect(fetched.prompt).toBe('Add a login page\nwith email and password');

    const started = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks`, {
      projectId: 'CAP',
      prompt: 'Go',
      title: 'Go now',
      start: true,
    });
    expect(started.json()).toMatchObject({ title: 'Go now', status: 'queued' });
  });

  test('create: 422 for a missing prompt, an unknown field, an unknown project, a title too long', async () => {
    const bad: unknown[] = [
      { projectId: 'CAP' },
      { projectId: 'CAP', prompt: '' },
      { projectId: 'CAP', prompt: 'x', foo: 1 },
      { projectId: 'NOPE', prompt: 'x' },
      { projectId: 'CAP', prompt: 'x', title: 'x'.repeat(501) },
    ];
    for (const body of bad)
      expectError(await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks`, body), 422, 'validation_error');
    // Another org's project is an unknown project.
    expectError(
      await h.call(h.b.admin, 'POST', `${BASE}/v1/tasks`, { projectId: 'CAP', prompt: 'x' }),
      422,
      'validation_error',
    );
  });

  test('stop cancels (archived), with the reason as a step; again is a no-op; a finished task cannot stop (422)', async () => {
    const t = await h.createTask(h.a.admin, { type: 'capy.task', projectId: 'CAP', input: { prompt: 'p' } });
    const res = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${t.identifier}/stop`, { reason: 'Wrong repo' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: t.id, identifier: t.identifier, status: 'archived' });
    const native = await h.getTask(h.a.admin, t.id);
    expect(native.status).toBe('canceled');
    expect(native.steps.map((s) => s.message)).toContain('cancel: Wrong repo');
    const again = await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${t.id}/stop`);
    expect(again.json()).toEqual({ id: t.id, identifier: t.identifier, status: 'archived' });
    expectError(
      await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/${fx.completed.id}/stop`, {}),
      422,
      'validation_error',
    );
  });

  test('stop: 404 for another org’s task (untouched), 422 for a malformed id', async () => {
    expectError(await h.call(h.b.admin, 'POST', `${BASE}/v1/tasks/${fx.queued.id}/stop`, {}), 404, 'not_found');
    expectError(
      await h.call(h.b.admin, 'POST', `${BASE}/v1/tasks/${projectTask.identifier}/stop`, {}),
      404,
      'not_found',
    );
    expect((await h.getTask(h.a.admin, fx.queued.id)).status).toBe('queued');
    expectError(await h.call(h.a.admin, 'POST', `${BASE}/v1/tasks/nope/stop`, {}), 422, 'validation_error');
  });
});
