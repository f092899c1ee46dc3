/**
 * POST /v1/tasks/batch (SPEC §4, §6): all or none, in the order given, refs resolved, cycles and
 * invalid items refused with the item's index; and a canceled dependency cancels its blocked
 * dependents, down the graph.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type Response, type WireTask } from '../helpers/http-harness.js';

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness();
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const batch = (tasks: unknown[], headers?: Record<string, string>) =>
  h.call(org.admin, 'POST', '/v1/tasks/batch', { tasks }, headers);
const tasksOf = (res: Response) => res.json<{ tasks: WireTask[] }>().tasks;
const paths = (res: Response): string[] =>
  (res.json<{ errors?: Array<{ path: string }> }>().errors ?? []).map((e) => e.path);

async function expectNoTasks(): Promise<void> {
  expect(await h.listAll(org.admin)).toEqual([]);
}

test('answers 201 with the tasks in the order given, each as GET shows it', async () => {
  const titles = ['one', 'two', 'three', 'four', 'five'];
  const res = await batch(titles.map((title) => ({ type: 'b.item', title })));
  expect(res.statusCode).toBe(201);
  const tasks = tasksOf(res);
  expect(tasks.map((t) => t.title)).toEqual(titles);
  expect(new Set(tasks.map((t) => t.id)).size).toBe(5);
  for (const t of tasks) expect(await h.getTask(org.admin, t.id)).toEqual(t);
  // Newest first in the list: the reverse of the order given.
  expect((await h.listAll(org.admin)).map((t) => t.title)).toEqual([...titles].reverse());
});

test('Prefer: return=minimal answers each task as { id, identifier, status, version }, replays included', async () => {
  const items = [{ type: 'b.min' }, { type: 'b.min', ref: 'a' }, { type: 'b.min', dependsOn: ['a'] }];
  for (const prefer of ['return=minimal', 'respond-async, RETURN = "minimal"; x=1']) {
    const key = `min-${prefer.length}`;
    const res = await batch(items, { prefer, 'idempotency-key': key });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['preference-applied']).toBe('return=minimal');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const created = res.json<{ tasks: Array<Record<string, unknown>> }>().tasks;
    expect(created.map((t) => Object.keys(t).sort())).toEqual(
      items.map(() => ['id', 'identifier', 'status', 'version']),
    );
    expect(created.map((t) => t.status)).toEqual(['queued', 'queued', 'blocked']);
    for (const t of created) {
      expect(await h.getTask(org.admin, t.id as string)).toMatchObject({
        id: t.id,
        status: t.status,
        version: t.version,
      });
    }
    // The replay of the same key answers 200, minimal again, with the same tasks.
    const replay = await batch(items, { prefer, 'idempotency-key': key });
    expect(replay.statusCode).toBe(200);
    expect(replay.json<{ tasks: unknown[] }>().tasks).toEqual(created);
  }
  // Any other preference, or none, answers the tasks in full.
  for (const prefer of ['return=representation', 'minimal', 'return=minimalist']) {
    const res = await batch([{ type: 'b.full' }], { prefer });
    expect(res.headers['preference-applied']).toBeUndefined();
    expect(tasksOf(res)[0]).toMatchObject({ type: 'b.full', input: null, steps: [] });
  }
});

test('refs are resolved to the ids of the same batch, wherever the ref sits', async () => {
  const res = await batch([
    { type: 'deploy', ref: 'deploy', dependsOn: ['build', 'test'] },
    { type: 'build', ref: 'build' },
    { type: 'test', ref: 'test', dependsOn: ['build'] },
    { type: 'notify', dependsOn: ['deploy'] },
  ]);
  expect(res.statusCode, res.body).toBe(201);
  const [deploy, build, testTask, notify] = tasksOf(res) as [WireTask, WireTask, WireTask, WireTask];
  expect(build).toMatchObject({ type: 'build', status: 'queued', dependsOn: [] });
  expect(testTask).toMatchObject({ type: 'test', status: 'blocked', dependsOn: [build.id], blockedBy: [build.id] });
  expect(deploy).toMatchObject({ type: 'deploy', status: 'blocked', dependsOn: [build.id, testTask.id] });
  expect([...deploy.blockedBy].sort()).toEqual([build.id, testTask.id].sort());
  expect(notify).toMatchObject({ type: 'notify', status: 'blocked', dependsOn: [deploy.id], blockedBy: [deploy.id] });
  expect(JSON.stringify(tasksOf(res))).not.toContain('"ref"');
});

test('an item may also depend on an existing task by id', async () => {
  const existing = await h.createTask(org.admin, { type: 'old' });
  const res = await batch([{ type: 'new', dependsOn: [existing.id] }]);
  expect(res.statusCode).toBe(201);
  expect(tasksOf(res)[0]).toMatchObject({ status: 'blocked', blockedBy: [existing.id] });
});

describe('refused batches create nothing', () => {
  test('a cycle is 422 DEPENDENCY_CYCLE', async () => {
    const res = await batch([
      { type: 'a', ref: 'a', dependsOn: ['c'] },
      { type: 'b', ref: 'b', dependsOn: ['a'] },
      { type: 'c', ref: 'c', dependsOn: ['b'] },
      { type: 'free' },
    ]);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'DEPENDENCY_CYCLE' });
    await expectNoTasks();
  });

  test('an item depending on itself is 422 DEPENDENCY_CYCLE', async () => {
    const res = await batch([{ type: 'a', ref: 'a', dependsOn: ['a'] }]);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'DEPENDENCY_CYCLE' });
    await expectNoTasks();
  });

  test.each([
    ['a wrong type', 3, { type: 'x', priority: '5' }, '/tasks/3/priority'],
    ['an unknown field', 2, { type: 'x', status: 'completed' }, '/tasks/2/status'],
    ['a missing type', 1, { title: 'no type' }, '/tasks/1'],
    ['a title too long', 4, { type: 'x', title: 'x'.repeat(501) }, '/tasks/4/title'],
  ])('an item with %s is 400 naming its index', async (_what, index, item, path) => {
    const items: unknown[] = Array.from({ length: 5 }, () => ({ type: 'ok' }));
    items[index] = item;
    const res = await batch(items);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(
      paths(res).some((p) => p.startsWith(path)),
      JSON.stringify(paths(res)),
    ).toBe(true);
    await expectNoTasks();
  });

  test('a dependsOn that is neither a ref nor an id is 400 naming the item and the entry', async () => {
    const res = await batch([
      { type: 'a', ref: 'a' },
      { type: 'b', dependsOn: ['a', 'nope'] },
    ]);
    expect(res.statusCode).toBe(400);
    expect(paths(res)).toContain('/tasks/1/dependsOn/1');
    await expectNoTasks();
  });

  test('a duplicate ref is 400', async () => {
    const res = await batch([
      { type: 'a', ref: 'same' },
      { type: 'b', ref: 'same' },
    ]);
    expect(res.statusCode).toBe(400);
    expect(paths(res)).toContain('/tasks/1/ref');
    await expectNoTasks();
  });

  test('an unknown external dependency is 422 UNKNOWN_DEPENDENCY', async () => {
    const res = await batch([{ type: 'a' }, { type: 'b', dependsOn: ['01900000-0000-7000-8000-0000000000bb'] }]);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_DEPENDENCY' });
    await expectNoTasks();
  });

  test('an item whose input is over 256 KiB is 413 naming the item', async () => {
    const res = await batch([{ type: 'a' }, { type: 'b', input: 'x'.repeat(256 * 1024) }]);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(paths(res)).toContain('/tasks/1/input');
    await expectNoTasks();
  });

  test('1,001 items is 400; 1,000 items are created', async () => {
    const over = await batch(Array.from({ length: 1001 }, () => ({ type: 'x' })));
    expect(over.statusCode).toBe(400);
    expect(over.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    await expectNoTasks();
    const full = await batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'x', title: `t${i}` })));
    expect(full.statusCode).toBe(201);
    expect(tasksOf(full).map((t) => t.title)).toEqual(Array.from({ length: 1000 }, (_, i) => `t${i}`));
    expect(await h.listAll(org.admin)).toHaveLength(1000);
  });

  test('an empty batch is 400', async () => {
    expect((await batch([])).statusCode).toBe(400);
    expect((await h.call(org.admin, 'POST', '/v1/tasks/batch', {})).statusCode).toBe(400);
  });
});

describe('canceling a dependency settles its blocked dependents', () => {
  test('cancel cascades DEPENDENCY_FAILED down the graph; onDependencyFailure run queues instead', async () => {
    const res = await batch([
      { type: 'root', ref: 'root' },
      { type: 'child', ref: 'child', dependsOn: ['root'] },
      { type: 'grandchild', ref: 'grandchild', dependsOn: ['child'] },
      { type: 'tolerant', dependsOn: ['root'], onDependencyFailure: 'run' },
      { type: 'great', dependsOn: ['grandchild'] },
      { type: 'unrelated' },
    ]);
    expect(res.statusCode).toBe(201);
    const [root, child, grandchild, tolerant, great, unrelated] = tasksOf(res) as WireTask[] as [
      WireTask,
      WireTask,
      WireTask,
      WireTask,
      WireTask,
      WireTask,
    ];
    const canceled = await h.call(org.admin, 'POST', `/v1/tasks/${root.id}/cancel`, {});
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json()).toMatchObject({ status: 'canceled' });

    for (const t of [child, grandchild, great]) {
      const now = await h.getTask(org.admin, t.id);
      expect(now.status, t.type).toBe('canceled');
      expect(now.error, t.type).toMatchObject({ code: 'DEPENDENCY_FAILED', retryable: false });
      expect(now.completedAt, t.type).not.toBeNull();
      expect(now.blockedBy, t.type).toEqual([]);
    }
    expect(await h.getTask(org.admin, tolerant.id)).toMatchObject({ status: 'queued', blockedBy: [] });
    expect(await h.getTask(org.admin, unrelated.id)).toMatchObject({ status: 'queued', version: 1 });
  });

  test('a dependency completing queues the dependent whose last open dependency it was', async () => {
    const res = await batch([
      { type: 'a', ref: 'a' },
      { type: 'b', ref: 'b' },
      { type: 'c', dependsOn: ['a', 'b'] },
    ]);
    const [a, b, c] = tasksOf(res) as [WireTask, WireTask, WireTask];
    for (const dep of [a, b]) {
      await h.drive(org.orgId, dep.id, { name: 'claim', leaseId: `lease-${dep.type}`, workerId: 'w', leaseMs: 30_000 });
      await h.drive(org.orgId, dep.id, { name: 'complete' });
      const now = await h.getTask(org.admin, c.id);
      if (dep === a) expect(now).toMatchObject({ status: 'blocked', blockedBy: [b.id] });
      else expect(now).toMatchObject({ status: 'queued', blockedBy: [] });
    }
  });
});
