/**
 * GET /v1/tasks?q= (title search) over HTTP, with the other filters, the cursor and a bulk call's
 * filter; and GET /v1/stats?type= (one type's counts and oldest claimable task). The store's part
 * of both is the conformance suite's (titleContains, oldestQueuedAt of a type), on every adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, problemOf, type Harness, type WireTask } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
afterAll(() => h.cleanup());

interface Page {
  items: WireTask[];
  nextCursor: string | null;
  hasMore: boolean;
}

const titles = (p: Page) => p.items.map((t) => t.title);

describe('GET /v1/tasks?q=', () => {
  it('lists the tasks whose title contains the text, ASCII case ignored, % and _ literal', async () => {
    const org = await h.newOrg();
    for (const title of ['Weekly report', 'weekly DIGEST', '100% done', '1000 done', 'a_b', 'axb']) {
      await h.createTask(org.admin, { type: 'ts.a', title });
    }
    const q = async (text: string) =>
      titles((await h.call(org.admin, 'GET', `/v1/tasks?q=${encodeURIComponent(text)}`)).json<Page>());
    expect(await q('WEEKLY')).toEqual(['weekly DIGEST', 'Weekly report']);
    expect(await q('digest')).toEqual(['weekly DIGEST']);
    expect(await q('0%')).toEqual(['100% done']);
    expect(await q('a_b')).toEqual(['a_b']);
    expect(await q('no such words')).toEqual([]);
    // Another org's tasks never match.
    expect(titles((await h.call(h.a.admin, 'GET', '/v1/tasks?q=DIGEST')).json<Page>())).toEqual([]);
  });

  it('combines with the other filters and pages with the cursor', async () => {
    const org = await h.newOrg();
    for (let i = 0; i < 5; i++) await h.createTask(org.admin, { type: 'ts.deploy', title: `Deploy ${i}` });
    await h.createTask(org.admin, { type: 'ts.build', title: 'Deploy the build' });
    await h.createTask(org.admin, { type: 'ts.deploy', title: 'Rollback' });
    const first = (await h.call(org.admin, 'GET', '/v1/tasks?q=deploy&type=ts.deploy&limit=3')).json<Page>();
    expect(titles(first)).toEqual(['Deploy 4', 'Deploy 3', 'Deploy 2']);
    expect(first.hasMore).toBe(true);
    const next = (
      await h.call(
        org.admin,
        'GET',
        `/v1/tasks?q=deploy&type=ts.deploy&limit=3&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
      )
    ).json<Page>();
    expect(titles(next)).toEqual(['Deploy 1', 'Deploy 0']);
    expect(next.hasMore).toBe(false);
  });

  it('refuses an empty q or one longer than 200 characters (400), and takes 200', async () => {
    for (const text of ['', 'x'.repeat(201)]) {
      const res = await h.call(h.a.admin, 'GET', `/v1/tasks?q=${text}`);
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).code).toBe('VALIDATION_FAILED');
    }
    expect((await h.call(h.a.admin, 'GET', `/v1/tasks?q=${'x'.repeat(200)}`)).statusCode).toBe(200);
  });

  it('is a filter of POST /v1/tasks/bulk too', async () => {
    const org = await h.newOrg();
    const keep = await h.createTask(org.admin, { type: 'ts.bulk', title: 'Keep me' });
    const drop = await h.createTask(org.admin, { type: 'ts.bulk', title: 'Drop me' });
    const res = await h.call(org.admin, 'POST', '/v1/tasks/bulk', { action: 'cancel', filter: { q: 'DROP' } });
    expect(res.json<{ matched: number }>().matched).toBe(1);
    expect((await h.getTask(org.admin, drop.id)).status).toBe('canceled');
    expect((await h.getTask(org.admin, keep.id)).status).toBe('queued');
  });
});

describe('GET /v1/stats?type=', () => {
  it("answers one type's counts, oldest claimable task and claims, however many are queued", async () => {
    const org = await h.newOrg();
    const clock = h.manualClock!;
    await h.call(org.admin, 'POST', '/v1/tasks/batch', {
      tasks: Array.from({ length: 250 }, () => ({ type: 'ts.old' })),
    });
    clock.advance(60_000);
    await h.call(org.admin, 'POST', '/v1/tasks/batch', {
      tasks: Array.from({ length: 250 }, () => ({ type: 'ts.old' })),
    });
    clock.advance(5_000);
    await h.createTask(org.admin, { type: 'ts.new' });
    clock.advance(1_000);

    const old = (await h.call(org.admin, 'GET', '/v1/stats?type=ts.old')).json<{
      total: number;
      byType: Record<string, { queued: number }>;
      oldestQueuedAgeMs: number | null;
    }>();
    expect(old.total).toBe(500);
    expect(Object.keys(old.byType)).toEqual(['ts.old']);
    expect(old.byType['ts.old']?.queued).toBe(500);
    expect(old.oldestQueuedAgeMs).toBe(66_000);

    const fresh = (await h.call(org.admin, 'GET', '/v1/stats?type=ts.new')).json<{ oldestQueuedAgeMs: number }>();
    expect(fresh.oldestQueuedAgeMs).toBe(1_000);
    const none = (await h.call(org.admin, 'GET', '/v1/stats?type=ts.none')).json<{ total: number; byType: object }>();
    expect(none).toMatchObject({ total: 0, byType: {}, oldestQueuedAgeMs: null, claimsPerMinute: 0 });
    expect((await h.call(org.admin, 'GET', '/v1/stats')).json<{ total: number }>().total).toBe(501);
    expect((await h.call(org.admin, 'GET', '/v1/stats?type=not%20a%20type')).statusCode).toBe(400);
  });
});
