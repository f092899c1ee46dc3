/**
 * GET /v1/tasks (SPEC §4): newest first, every filter, limits, and cursor paging that stays exact
 * while tasks are inserted between pages. Runs on a manual clock so createdAt is exact.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys, type WireTask } from '../helpers/http-harness.js';

interface Page {
  items: WireTask[];
  nextCursor: string | null;
  hasMore: boolean;
}

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const clock = () => h.manualClock as NonNullable<Harness['manualClock']>;

async function list(query: string, key = org.admin): Promise<Page> {
  const res = await h.call(key, 'GET', `/v1/tasks${query === '' ? '' : `?${query}`}`);
  expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
  return res.json<Page>();
}

const ids = (page: Page) => page.items.map((t) => t.id);

async function batchOf(n: number, type = 'bulk'): Promise<WireTask[]> {
  const res = await h.call(org.admin, 'POST', '/v1/tasks/batch', {
    tasks: Array.from({ length: n }, (_, i) => ({ type, title: `#${i}` })),
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ tasks: WireTask[] }>().tasks;
}

test('newest first', async () => {
  const made: WireTask[] = [];
  for (let i = 0; i < 4; i++) {
    made.push(await h.createTask(org.admin, { type: 'x', title: `t${i}` }));
    clock().advance(10);
  }
  const page = await list('');
  expect(ids(page)).toEqual(made.map((t) => t.id).reverse());
  expect(page).toMatchObject({ hasMore: false, nextCursor: null });
});

test('an empty org lists nothing', async () => {
  expect(await list('')).toEqual({ items: [], nextCursor: null, hasMore: false });
});

describe('filters', () => {
  let t1: WireTask, t2: WireTask, t3: WireTask, t4: WireTask, t5: WireTask;
  let t0: number;
  let projectId: string;
  const at = (ms: number) => encodeURIComponent(new Date(t0 + ms).toISOString());

  beforeEach(async () => {
    projectId = (await h.call(org.admin, 'POST', '/v1/projects', { key: 'OPS', name: 'Ops' })).json<{ id: string }>()
      .id;
    t0 = clock().now();
    t1 = await h.createTask(org.admin, { type: 'email', listId: 'L1', labels: ['red'], assignee: 'bob', start: false });
    clock().advance(1000);
    t2 = await h.createTask(org.admin, { type: 'email', listId: 'L2', labels: ['red', 'blue'], projectId: 'OPS' });
    clock().advance(1000);
    t3 = await h.createTask(org.admin, { type: 'sms', labels: ['blue'], assignee: 'bob' });
    expect((await h.call(org.admin, 'POST', `/v1/tasks/${t3.id}/cancel`, {})).statusCode).toBe(200);
    clock().advance(1000);
    t4 = await h.createTask(org.admin, { type: 'sms', dependsOn: [t1.id] });
    clock().advance(1000);
    t5 = await h.createTask(org.admin, { type: 'email', labels: ['red'] });
    expect((await h.call(org.admin, 'POST', `/v1/tasks/${t5.id}/archive`, {})).statusCode).toBe(200);
    clock().advance(1000);
  });

  test('status given once (?status=queued) filters, and does not answer 500', async () => {
    expect(ids(await list('status=backlog'))).toEqual([t1.id]);
    expect(ids(await list('status=queued'))).toEqual([t2.id]);
    expect(ids(await list('status=blocked'))).toEqual([t4.id]);
    expect(ids(await list('status=completed'))).toEqual([]);
  });

  test('status repeated', async () => {
    expect(ids(await list('status=queued&status=canceled'))).toEqual([t3.id, t2.id]);
    expect(ids(await list('status=backlog&status=blocked&status=completed'))).toEqual([t4.id, t1.id]);
  });

  test('type, listId, assignee, label', async () => {
    expect(ids(await list('type=email'))).toEqual([t2.id, t1.id]);
    expect(ids(await list('type=sms'))).toEqual([t4.id, t3.id]);
    expect(ids(await list('listId=L1'))).toEqual([t1.id]);
    expect(ids(await list('assignee=bob'))).toEqual([t3.id, t1.id]);
    expect(ids(await list('label=red'))).toEqual([t2.id, t1.id]);
    expect(ids(await list('label=blue'))).toEqual([t3.id, t2.id]);
    expect(ids(await list('label=green'))).toEqual([]);
  });

  test('projectId, by the project id', async () => {
    expect(ids(await list(`projectId=${projectId}`))).toEqual([t2.id]);
  });

  test('projectId, by the project key (as create accepts it)', async () => {
    expect(ids(await list('projectId=OPS'))).toEqual([t2.id]);
  });

  test('createdAfter and createdBefore', async () => {
    expect(ids(await list(`createdAfter=${at(500)}`))).toEqual([t4.id, t3.id, t2.id]);
    expect(ids(await list(`createdBefore=${at(2500)}`))).toEqual([t3.id, t2.id, t1.id]);
    expect(ids(await list(`createdAfter=${at(500)}&createdBefore=${at(2500)}`))).toEqual([t3.id, t2.id]);
    expect(ids(await list(`createdAfter=${at(60_000)}`))).toEqual([]);
  });

  test('archived tasks are hidden unless archived=true', async () => {
    expect(ids(await list(''))).toEqual([t4.id, t3.id, t2.id, t1.id]);
    expect(ids(await list('archived=false'))).not.toContain(t5.id);
    expect(ids(await list('archived=true'))).toContain(t5.id);
    expect(ids(await list('archived=true&type=email&label=red'))).toContain(t5.id);
    // Unarchived, it is back in the default list.
    expect((await h.call(org.admin, 'POST', `/v1/tasks/${t5.id}/unarchive`, {})).statusCode).toBe(200);
    expect(ids(await list(''))).toEqual([t5.id, t4.id, t3.id, t2.id, t1.id]);
  });

  test('filters combine', async () => {
    expect(ids(await list('type=email&label=red&status=queued&status=canceled'))).toEqual([t2.id]);
    expect(ids(await list('type=sms&assignee=bob'))).toEqual([t3.id]);
    expect(ids(await list('type=sms&assignee=alice'))).toEqual([]);
  });
});

describe('limit', () => {
  test('defaults to 50, goes up to 200, and refuses 0 or 201', async () => {
    await batchOf(205);
    const first = await list('');
    expect(first.items).toHaveLength(50);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect((await list('limit=200')).items).toHaveLength(200);
    expect((await list('limit=1')).items).toHaveLength(1);
    for (const bad of ['201', '0', '-1', 'ten', '1.5']) {
      const res = await h.call(org.admin, 'GET', `/v1/tasks?limit=${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json(), bad).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

describe('cursor paging', () => {
  test('covers every task exactly once, in order', async () => {
    const made = await batchOf(23);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`limit=5${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...ids(page));
      expect(page.hasMore).toBe(page.nextCursor !== null);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(5);
    expect(seen).toEqual(made.map((t) => t.id).reverse());
  });

  test('stays exact when tasks are inserted between page fetches', async () => {
    const made = await batchOf(25);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      // Newer tasks arrive while the client pages.
      await h.createTask(org.admin, { type: 'late' });
      await batchOf(3, 'late');
    } while (cursor !== null);
    expect(seen).toEqual(made.map((t) => t.id).reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('a filter applies on every page', async () => {
    await batchOf(6, 'a');
    await batchOf(6, 'b');
    const seen: WireTask[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`type=a&limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.map((t) => t.type)).toEqual(Array(6).fill('a'));
  });

  test('a tampered or made-up cursor is 400', async () => {
    await batchOf(3);
    const cursor = (await list('limit=1')).nextCursor as string;
    const flipped = cursor.slice(0, 1) + (cursor[1] === 'A' ? 'B' : 'A') + cursor.slice(2);
    const bad = [
      flipped,
      cursor.slice(0, -4),
      'garbage',
      Buffer.from('v1:not-a-uuid').toString('base64url'),
      Buffer.from('v2:01900000-0000-7000-8000-000000000000').toString('base64url'),
      'x'.repeat(201),
    ];
    for (const c of bad) {
      const res = await h.call(org.admin, 'GET', `/v1/tasks?cursor=${encodeURIComponent(c)}`);
      expect(res.statusCode, c).toBe(400);
      expect(res.json(), c).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

test('invalid filters are 400, not ignored', async () => {
  for (const q of [
    'status=bogus',
    'status=queued&status=nope',
    'createdAfter=yesterday',
    'archived=maybe',
    'type=has%20space',
    'foo=1',
  ]) {
    const res = await h.call(org.admin, 'GET', `/v1/tasks?${q}`);
    expect(res.statusCode, q).toBe(400);
    expect(res.json(), q).toMatchObject({ code: 'VALIDATION_FAILED' });
  }
});
