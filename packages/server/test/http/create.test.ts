/** POST /v1/tasks: the answer, the defaults of SPEC §2, start/delay/runAt and dependencies. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type WireTask } from '../helpers/http-harness.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let h: Harness;
/** A fresh, empty org per test. */
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
beforeEach(async () => {
  org = await h.newOrg();
  h.manualClock?.advance(1000);
});
afterAll(() => h.cleanup());

const now = () => (h.manualClock as NonNullable<Harness['manualClock']>).now();

describe('a minimal create', () => {
  test('answers 201 with Location and ETag, and the task as GET shows it', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'email.send' });
    expect(res.statusCode).toBe(201);
    const task = res.json<WireTask>();
    expect(task.id).toMatch(UUID_V7);
    expect(res.headers.location).toBe(`/v1/tasks/${task.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const got = await h.call(org.admin, 'GET', res.headers.location as string);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(task);
  });

  test('fills every default of SPEC §2', async () => {
    const task = await h.createTask(org.admin, { type: 'email.send' });
    const created = new Date(now()).toISOString();
    expect(task).toMatchObject({
      orgId: org.orgId,
      projectId: null,
      identifier: null,
      listId: null,
      type: 'email.send',
      title: 'email.send',
      description: null,
      input: null,
      status: 'queued',
      priority: 0,
      progress: null,
      progressMessage: null,
      steps: [],
      result: null,
      error: null,
      attempt: 0,
      maxRetries: 3,
      retryPolicy: { strategy: 'exponential', delayMs: 1000, maxDelayMs: 300_000, jitter: 'full' },
      leaseMs: null,
      timeoutMs: null,
      runAt: null,
      dependsOn: [],
      blockedBy: [],
      blockedReason: null,
      onDependencyFailure: 'cancel',
      assignee: null,
      createdBy: 'admin',
      pollCount: 0,
      requiresReview: false,
      metadata: {},
      labels: [],
      idempotencyKey: null,
      version: 1,
      createdAt: created,
      updatedAt: created,
      queuedAt: created,
      startedAt: null,
      completedAt: null,
      blockedAt: null,
      archivedAt: null,
      expiresAt: null,
      lease: null,
    });
    for (const field of ['createdAt', 'updatedAt', 'queuedAt'] as const) expect(task[field]).toMatch(RFC3339_MS);
  });

  test("createdBy defaults to the creating key's name, and keeps a given value", async () => {
    const writer = await h.createKey(org.admin, ['tasks:write'], { name: 'ci-pipeline' });
    expect((await h.createTask(writer.secret, { type: 'x' })).createdBy).toBe('ci-pipeline');
    expect((await h.createTask(h.a.admin, { type: 'x' })).createdBy).toBe('a-admin');
    expect((await h.createTask(writer.secret, { type: 'x', createdBy: 'alice' })).createdBy).toBe('alice');
  });

  test('every settable field is kept', async () => {
    const body = {
      type: 'pentest.run',
      title: 'Scan the staging API',
      description: 'All of it.',
      input: { prompt: 'go', targets: ['a', 'b'], depth: 3, nested: { ok: true, none: null } },
      priority: -1000,
      maxRetries: 0,
      retryPolicy: { strategy: 'linear', delayMs: 500, maxDelayMs: 2000, jitter: 'none' },
      leaseMs: 60_000,
      timeoutMs: 3_600_000,
      onDependencyFailure: 'run',
      assignee: 'agent-7',
      requiresReview: true,
      metadata: { ticket: 'SEC-1', weight: 2.5, tags: ['x'], nested: { a: null } },
      labels: ['security', 'weekly'],
      listId: 'plan-42',
      ttlSeconds: 60,
    };
    const task = await h.createTask(org.admin, body);
    const { ttlSeconds: _ttl, ...visible } = body;
    expect(task).toMatchObject(visible);
  });

  test('a partial retryPolicy is merged over the defaults', async () => {
    const task = await h.createTask(org.admin, { type: 'x', retryPolicy: { delayMs: 250 } });
    expect(task.retryPolicy).toEqual({ strategy: 'exponential', delayMs: 250, maxDelayMs: 300_000, jitter: 'full' });
  });
});

describe('when the task may run', () => {
  test('start: false creates it in backlog, never queued', async () => {
    const task = await h.createTask(org.admin, { type: 'x', start: false });
    expect(task.status).toBe('backlog');
    expect(task.queuedAt).toBeNull();
    expect((await h.getTask(org.admin, task.id)).status).toBe('backlog');
  });

  test('delayMs sets runAt = now + delayMs', async () => {
    const task = await h.createTask(org.admin, { type: 'x', delayMs: 90_000 });
    expect(task.status).toBe('queued');
    expect(task.runAt).toBe(new Date(now() + 90_000).toISOString());
  });

  test('runAt is kept, rendered as RFC 3339 UTC with milliseconds', async () => {
    const task = await h.createTask(org.admin, { type: 'x', runAt: '2026-03-01T12:00:00+02:00' });
    expect(task.runAt).toBe('2026-03-01T10:00:00.000Z');
  });

  test('runAt together with delayMs is refused', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', { type: 'x', delayMs: 10, runAt: '2026-03-01T00:00:00Z' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await h.listAll(org.admin)).toEqual([]);
  });
});

describe('dependencies', () => {
  test('an open dependency blocks the task, with blockedBy naming it', async () => {
    const dep = await h.createTask(org.admin, { type: 'build' });
    const task = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id] });
    expect(task).toMatchObject({ status: 'blocked', dependsOn: [dep.id], blockedBy: [dep.id], queuedAt: null });
    expect(task.blockedReason).toEqual(expect.any(String));
    expect(task.blockedAt).toBe(task.createdAt);
  });

  test('a completed dependency does not block', async () => {
    const dep = await h.createTask(org.admin, { type: 'build' });
    await h.drive(org.orgId, dep.id, { name: 'claim', leaseId: 'l1', workerId: 'w1', leaseMs: 30_000 });
    await h.drive(org.orgId, dep.id, { name: 'complete', result: { ok: true } });
    const task = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id] });
    expect(task).toMatchObject({ status: 'queued', dependsOn: [dep.id], blockedBy: [] });
  });

  test('a canceled dependency cancels the new task (DEPENDENCY_FAILED), unless onDependencyFailure is run', async () => {
    const dep = await h.createTask(org.admin, { type: 'build' });
    expect((await h.call(org.admin, 'POST', `/v1/tasks/${dep.id}/cancel`, {})).statusCode).toBe(200);
    const doomed = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id] });
    expect(doomed.status).toBe('canceled');
    expect(doomed.error).toMatchObject({ code: 'DEPENDENCY_FAILED', retryable: false });
    const runs = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id], onDependencyFailure: 'run' });
    expect(runs.status).toBe('queued');
  });

  test('with start: false the task waits in backlog, and start then blocks it', async () => {
    const dep = await h.createTask(org.admin, { type: 'build' });
    const task = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id], start: false });
    expect(task).toMatchObject({ status: 'backlog', blockedBy: [] });
    const started = await h.call(org.admin, 'POST', `/v1/tasks/${task.id}/start`, {});
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({ status: 'blocked', blockedBy: [dep.id], version: 2 });
  });

  test('an unknown dependency is 422 UNKNOWN_DEPENDENCY and creates nothing', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/tasks', {
      type: 'x',
      dependsOn: ['01900000-0000-7000-8000-0000000000aa'],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_DEPENDENCY' });
    expect(await h.listAll(org.admin)).toEqual([]);
  });

  test('a dependency named by its project identifier is that task', async () => {
    await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Ops' });
    const dep = await h.createTask(org.admin, { type: 'build', projectId: 'OPS' });
    const task = await h.createTask(org.admin, { type: 'deploy', dependsOn: ['OPS-1'] });
    expect(task).toMatchObject({ status: 'blocked', dependsOn: [dep.id], blockedBy: [dep.id] });
  });

  test('a dependency named by an upper-case UUID is the same task', async () => {
    const dep = await h.createTask(org.admin, { type: 'build' });
    const task = await h.createTask(org.admin, { type: 'deploy', dependsOn: [dep.id.toUpperCase()] });
    expect(task.dependsOn).toEqual([dep.id]);
    expect(task.status).toBe('blocked');
  });
});

test('the created tasks appear in the list, newest first', async () => {
  const first = await h.createTask(org.admin, { type: 'x' });
  const second = await h.createTask(org.admin, { type: 'x' });
  expect((await h.listAll(org.admin)).map((t) => t.id)).toEqual([second.id, first.id]);
});
