/**
 * The SDK client against a real server started in-process (SQLite in a temp folder): every
 * method, and how answers map to results and errors.
 */
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { parseRetryAfter, TasklaneApiError, TasklaneClient, TasklaneConnectionError, type Task } from '../src/index.js';

interface Started {
  server: RunningServer;
  dir: string;
}

async function start(rateLimit = '0'): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-sdk-'));
  const server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit }));
  return { server, dir };
}

async function stop(s: Started | undefined): Promise<void> {
  if (s === undefined) return;
  await s.server.close();
  rmSync(s.dir, { recursive: true, force: true });
}

/** The TasklaneApiError a promise rejects with (fails the test if it resolves or throws anything else). */
async function apiError(promise: Promise<unknown>): Promise<TasklaneApiError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TasklaneApiError);
  return err as TasklaneApiError;
}

let main: Started | undefined;
let url: string;
let root: TasklaneClient;
/** The admin of an org this file creates, so tests see only their own tasks. */
let admin: TasklaneClient;

beforeAll(async () => {
  main = await start();
  url = main.server.url;
  if (main.server.rootKey === null) throw new Error('the first start should create a root key');
  root = new TasklaneClient({ url, key: main.server.rootKey });
  const { org, adminKey } = await root.orgs.create({ id: 'sdk-test', name: 'SDK test' });
  expect(org.id).toBe('sdk-test');
  expect(adminKey.secret).toMatch(/^tl_[0-9A-Za-z]{32,}$/);
  expect(adminKey.scopes).toEqual(['admin']);
  admin = new TasklaneClient({ url: `${url}/`, key: adminKey.secret }); // a trailing slash is fine
});

afterAll(async () => {
  await stop(main);
});

describe('orgs', () => {
  it('answers 409 CONFLICT for an existing org id, and 403 to a non-root key', async () => {
    expect((await apiError(root.orgs.create({ id: 'sdk-test', name: 'again' }))).code).toBe('CONFLICT');
    const err = await apiError(admin.orgs.create({ id: 'other-org', name: 'x' }));
    expect(err.status).toBe(403);
    expect(err.code).toBe('FORBIDDEN');
  });

  it("reads and changes the caller's org; its defaults reach new tasks", async () => {
    expect(await admin.org.get()).toMatchObject({
      id: 'sdk-test',
      name: 'SDK test',
      defaults: { maxRetries: null, ttlSeconds: null },
    });
    const changed = await admin.org.update({ defaults: { maxRetries: 8 } });
    expect(changed.defaults).toEqual({ maxRetries: 8, ttlSeconds: null });
    expect(await admin.org.get()).toEqual(changed);
    expect((await admin.tasks.create({ type: 'sdk.org-defaults' })).maxRetries).toBe(8);
    const back = await admin.org.update({ defaults: { maxRetries: null } });
    expect(back.defaults.maxRetries).toBeNull();
    const err = await apiError(admin.org.update({ defaults: { ttlSeconds: 0 } }));
    expect([err.status, err.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('keys', () => {
  it('creates (secret once), lists (no secrets) and revokes (401 at once)', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await admin.keys.create({
      name: 'reader-writer',
      scopes: ['tasks:read', 'tasks:write'],
      expiresAt,
    });
    expect(created.secret).toMatch(/^tl_/);
    expect(created.expiresAt).toBe(expiresAt);

    const listed = await admin.keys.list();
    const mine = listed.find((k) => k.id === created.id);
    expect(mine).toMatchObject({ name: 'reader-writer', scopes: ['tasks:read', 'tasks:write'], revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const user = new TasklaneClient({ url, key: created.secret });
    await user.tasks.list();
    await admin.keys.revoke(created.id);
    const err = await apiError(user.tasks.list());
    expect(err.status).toBe(401);
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.requestId).toEqual(expect.any(String));
    expect(err.message).toBe(`UNAUTHORIZED: ${err.detail}`);
    expect((await admin.keys.list()).find((k) => k.id === created.id)?.revokedAt).not.toBeNull();
  });

  it('maps a missing scope to 403 FORBIDDEN and an unknown key id to 404', async () => {
    const { secret } = await admin.keys.create({ name: 'reader', scopes: ['tasks:read'] });
    const reader = new TasklaneClient({ url, key: secret });
    const err = await apiError(reader.tasks.create({ type: 'sdk.forbidden' }));
    expect([err.status, err.code]).toEqual([403, 'FORBIDDEN']);
    expect((await apiError(admin.keys.revoke('no-such-key'))).status).toBe(404);
  });
});

describe('projects', () => {
  it('creates, lists, gets by id and by key, and gives tasks identifiers', async () => {
    const project = await admin.projects.create({ key: 'SDK', name: 'SDK project' });
    expect((await admin.projects.list()).map((p) => p.id)).toContain(project.id);
    expect(await admin.projects.get('SDK')).toEqual(project);
    expect(await admin.projects.get(project.id)).toEqual(project);
    expect((await apiError(admin.projects.get('NOPE'))).code).toBe('NOT_FOUND');

    const task = await admin.tasks.create({ type: 'sdk.project', projectId: 'SDK' });
    expect(task).toMatchObject({ projectId: project.id, identifier: 'SDK-1' });
    expect((await admin.tasks.get('SDK-1')).id).toBe(task.id);
  });
});

describe('tasks', () => {
  it('creates a task with the fields given', async () => {
    const task = await admin.tasks.create({
      type: 'sdk.create',
      title: 'Send it',
      input: { to: 'a@example.com' },
      priority: 7,
      labels: ['x', 'y'],
      listId: 'plan-1',
      metadata: { source: 'test' },
    });
    expect(task).toMatchObject({
      type: 'sdk.create',
      title: 'Send it',
      input: { to: 'a@example.com' },
      priority: 7,
      labels: ['x', 'y'],
      listId: 'plan-1',
      status: 'queued',
      orgId: 'sdk-test',
      version: 1,
    });
  });

  it('replays an idempotent create, and refuses the key with another body (422)', async () => {
    const body = { type: 'sdk.idem', input: { n: 1 } };
    const first = await admin.tasks.create(body, { idempotencyKey: 'idem-1' });
    const again = await admin.tasks.create(body, { idempotencyKey: 'idem-1' });
    expect(again.id).toBe(first.id);
    expect(again.idempotencyKey).toBe('idem-1');
    const err = await apiError(admin.tasks.create({ ...body, input: { n: 2 } }, { idempotencyKey: 'idem-1' }));
    expect([err.status, err.code]).toEqual([422, 'IDEMPOTENCY_MISMATCH']);
  });

  it('maps 400 with field errors and 422 UNKNOWN_DEPENDENCY', async () => {
    const bad = await apiError(admin.tasks.create({ type: 'sdk.bad', status: 'completed' } as never));
    expect([bad.status, bad.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(bad.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/status' })]));
    expect(bad.problem?.requestId).toBe(bad.requestId);

    const unknown = await apiError(
      admin.tasks.create({ type: 'sdk.dep', dependsOn: ['01900000-0000-7000-8000-000000000000'] }),
    );
    expect([unknown.status, unknown.code]).toEqual([422, 'UNKNOWN_DEPENDENCY']);
    expect(unknown.errors?.[0]?.path).toBe('/dependsOn');
  });

  it('creates a batch with refs in the order given, and refuses a cycle', async () => {
    const [a, b] = await admin.tasks.createBatch({
      tasks: [
        { ref: 'a', type: 'sdk.batch' },
        { ref: 'b', type: 'sdk.batch', dependsOn: ['a'] },
      ],
    });
    expect(a?.status).toBe('queued');
    expect(b).toMatchObject({ status: 'blocked', dependsOn: [a?.id], blockedBy: [a?.id] });

    const err = await apiError(
      admin.tasks.createBatch({
        tasks: [
          { ref: 'a', type: 'sdk.cycle', dependsOn: ['b'] },
          { ref: 'b', type: 'sdk.cycle', dependsOn: ['a'] },
        ],
      }),
    );
    expect([err.status, err.code]).toEqual([422, 'DEPENDENCY_CYCLE']);
  });

  it('gets a task, answers null when not modified (304), and 404 for an unknown id', async () => {
    const task = await admin.tasks.create({ type: 'sdk.get' });
    expect(await admin.tasks.get(task.id)).toEqual(task);
    expect(await admin.tasks.get(task.id, { ifNoneMatch: task.version })).toBeNull();
    expect(await admin.tasks.get(task.id, { ifNoneMatch: `W/"${task.version}"` })).toBeNull();
    expect(await admin.tasks.get(task.id, { ifNoneMatch: task.version - 1 })).toMatchObject({ id: task.id });

    const err = await apiError(admin.tasks.get('01900000-0000-7000-8000-000000000000'));
    expect([err.status, err.code]).toEqual([404, 'NOT_FOUND']);
    // Another org's task answers exactly like a missing one.
    expect((await apiError(root.tasks.get(task.id))).code).toBe('NOT_FOUND');
  });

  it('long-polls with wait: answers the change, or null when the wait passes', async () => {
    const task = await admin.tasks.create({ type: 'sdk.wait' });
    const held = admin.tasks.get(task.id, { wait: 30, ifNoneMatch: task.version });
    await admin.tasks.cancel(task.id);
    expect(await held).toMatchObject({ id: task.id, status: 'canceled' });

    const canceled = await admin.tasks.get(task.id);
    expect(await admin.tasks.get(task.id, { wait: 1, ifNoneMatch: canceled.version })).toBeNull();
  });

  it('lists with filters; status repeats in the query', async () => {
    const queued = await admin.tasks.create({ type: 'sdk.list', labels: ['pick'] });
    const backlog = await admin.tasks.create({ type: 'sdk.list', start: false });
    const ids = (tasks: Task[]) => tasks.map((t) => t.id);

    const both = await admin.tasks.list({ type: 'sdk.list', status: ['queued', 'backlog'] });
    expect(ids(both.items)).toEqual([backlog.id, queued.id]);
    expect(both).toMatchObject({ hasMore: false, nextCursor: null });
    // A list of one is sent as one parameter (status=backlog).
    expect(ids((await admin.tasks.list({ type: 'sdk.list', status: ['backlog'] })).items)).toEqual([backlog.id]);
    expect(ids((await admin.tasks.list({ type: 'sdk.list', label: 'pick' })).items)).toEqual([queued.id]);

    const bad = await apiError(admin.tasks.list({ limit: 500 }));
    expect([bad.status, bad.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('walks every page with listAll and listPages', async () => {
    const created = await admin.tasks.createBatch({ tasks: Array.from({ length: 5 }, () => ({ type: 'sdk.page' })) });
    const all: Task[] = [];
    for await (const t of admin.tasks.listAll({ type: 'sdk.page', limit: 2 })) all.push(t);
    expect(all.map((t) => t.id)).toEqual(created.map((t) => t.id).reverse());

    const sizes: number[] = [];
    for await (const page of admin.tasks.listPages({ type: 'sdk.page', limit: 2 })) sizes.push(page.items.length);
    expect(sizes).toEqual([2, 2, 1]);

    const first = await admin.tasks.list({ type: 'sdk.page', limit: 2 });
    const rest: Task[] = [];
    for await (const t of admin.tasks.listAll({ type: 'sdk.page', limit: 2, cursor: first.nextCursor ?? '' }))
      rest.push(t);
    expect(rest).toHaveLength(3);
  });

  it('updates with If-Match, 412 when the version is stale', async () => {
    const task = await admin.tasks.create({ type: 'sdk.patch', metadata: { a: 1 } });
    const patched = await admin.tasks.update(
      task.id,
      { title: 'Renamed', metadata: { b: 2 } },
      { ifMatch: task.version },
    );
    expect(patched).toMatchObject({ title: 'Renamed', metadata: { a: 1, b: 2 }, version: task.version + 1 });
    const err = await apiError(admin.tasks.update(task.id, { priority: 3 }, { ifMatch: task.version }));
    expect([err.status, err.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await admin.tasks.update(task.id, { priority: 3 })).priority).toBe(3);
  });

  it('runs the actions, and 409 INVALID_TRANSITION for one the status does not allow', async () => {
    const task = await admin.tasks.create({ type: 'sdk.actions', start: false });
    expect((await admin.tasks.start(task.id)).status).toBe('queued');
    expect(await admin.tasks.block(task.id, 'waiting for a person')).toMatchObject({
      status: 'blocked',
      blockedReason: 'waiting for a person',
    });
    expect((await admin.tasks.unblock(task.id)).status).toBe('queued');

    const err = await apiError(admin.tasks.approve(task.id));
    expect([err.status, err.code]).toEqual([409, 'INVALID_TRANSITION']);
    expect((await apiError(admin.tasks.reject(task.id, { reason: 'no', requeue: true }))).code).toBe(
      'INVALID_TRANSITION',
    );

    expect((await admin.tasks.cancel(task.id, { reason: 'not needed' })).status).toBe('canceled');
    expect((await admin.tasks.retry(task.id)).status).toBe('queued');
    expect((await admin.tasks.action(task.id, 'cancel')).status).toBe('canceled');

    expect((await admin.tasks.archive(task.id)).archivedAt).not.toBeNull();
    expect((await admin.tasks.list({ type: 'sdk.actions' })).items).toHaveLength(0);
    expect((await admin.tasks.list({ type: 'sdk.actions', archived: true })).items).toHaveLength(1);
    expect((await admin.tasks.unarchive(task.id)).archivedAt).toBeNull();
  });

  it('deletes terminal tasks only', async () => {
    const task = await admin.tasks.create({ type: 'sdk.delete' });
    expect((await apiError(admin.tasks.delete(task.id))).status).toBe(409);
    await admin.tasks.cancel(task.id);
    await admin.tasks.delete(task.id);
    expect((await apiError(admin.tasks.get(task.id))).status).toBe(404);
  });

  it('appends and reads steps', async () => {
    const task = await admin.tasks.create({ type: 'sdk.steps' });
    const history = await admin.tasks.appendSteps(task.id, [{ message: 'one' }, { message: 'two', data: { n: 2 } }]);
    expect(history.map((s) => s.message)).toEqual(['one', 'two']);
    expect(history[1]?.data).toEqual({ n: 2 });
    expect(await admin.tasks.steps(task.id)).toEqual(history);
    const err = await apiError(admin.tasks.appendSteps(task.id, [{ message: 'x' }], { leaseId: 'not-a-lease' }));
    expect([err.status, err.code]).toEqual([409, 'LEASE_LOST']);
  });
});

describe('transport', () => {
  it('gives retryAfter on 429 RATE_LIMITED', async () => {
    const limited = await start('1');
    try {
      if (limited.server.rootKey === null) throw new Error('no root key');
      const client = new TasklaneClient({ url: limited.server.url, key: limited.server.rootKey });
      // One request per second, a burst of two: the third in a row is over.
      let err: TasklaneApiError | undefined;
      for (let i = 0; i < 10 && err === undefined; i++) {
        err = await client.keys.list().then(
          () => undefined,
          (e: unknown) => (e instanceof TasklaneApiError ? e : Promise.reject(e)),
        );
      }
      expect(err).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(err?.retryAfter).toBeGreaterThanOrEqual(1);
    } finally {
      await stop(limited);
    }
  });

  it('throws TasklaneConnectionError when nothing answers, or the time limit passes', async () => {
    const gone = await start();
    const goneUrl = gone.server.url;
    await stop(gone);
    const err = await new TasklaneClient({ url: goneUrl, key: 'tl_x' }).tasks.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TasklaneConnectionError);
    expect(err).toMatchObject({ timedOut: false });

    const task = await admin.tasks.create({ type: 'sdk.timeout' });
    const slow = admin.request('GET', `/v1/tasks/${task.id}`, {
      query: { wait: 30 },
      headers: { 'if-none-match': `"${task.version}"` },
      timeoutMs: 100,
    });
    await expect(slow).rejects.toMatchObject({ name: 'TasklaneConnectionError', timedOut: true });
  });

  it("rethrows the caller's own abort as is", async () => {
    const task = await admin.tasks.create({ type: 'sdk.abort' });
    const controller = new AbortController();
    const held = admin.tasks.get(task.id, { wait: 30, ifNoneMatch: task.version, signal: controller.signal });
    controller.abort();
    await expect(held).rejects.toMatchObject({ name: 'AbortError' });
  });

  it("leaves no listener on the caller's signal once answered, and refuses a signal aborted already", async () => {
    const task = await admin.tasks.create({ type: 'sdk.signal' });
    const controller = new AbortController();
    for (let i = 0; i < 3; i++)
      expect((await admin.tasks.get(task.id, { signal: controller.signal })).id).toBe(task.id);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    await expect(admin.tasks.get(task.id, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('describes a non-problem error body by its status', async () => {
    const fake: typeof fetch = async () =>
      new Response('<html>bad gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'retry-after': '7' },
      });
    const err = await apiError(new TasklaneClient({ url, key: 'tl_x', fetch: fake }).tasks.list());
    expect(err).toMatchObject({ status: 502, code: 'HTTP_502', detail: 'Bad Gateway', retryAfter: 7, problem: null });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
