/**
 * Event streams on a real port (SSE), on SQLite and PostgreSQL: the frames and their order, what a
 * stream of the org and of one task send, filters, isolation between orgs, the end of a task's
 * stream, the JSON page form, keepalive comments, and the per-key cap. Each test works in an org of
 * its own, so its ids and history are its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletedEvent } from '../../../src/service/task-events.js';
import type { WireTask } from '../../helpers/http-harness.js';
import { Scrape } from '../../helpers/metrics-text.js';
import type { StreamServer, WireEvent } from '../../helpers/sse.js';
import { backends, everyKind, expectIncreasing, expectWireEvent, history, post, serverOn } from './fixture.js';

const BACKENDS = backends('event-streams');

describe.each(BACKENDS)('event streams ($name)', (backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend, { events: { keepaliveMs: 100 } });
  });
  afterAll(() => s.cleanup());

  it('an org stream: the SSE head, retry: 2000 first, then every kind of event in id order, as the store has them', async () => {
    const { admin } = await s.newOrg();
    const c = await s.open('/v1/events', { key: admin });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['cache-control']).toBe('no-cache, no-transform');
    expect(c.headers['x-accel-buffering']).toBe('no');
    expect(c.headers['x-request-id']).toBeTruthy();
    await c.until((x) => x.frames.length > 0, 'the retry line');
    expect(c.frames[0]).toMatchObject({ retry: '2000' });

    await everyKind(s, admin, { listId: 'l1' });
    const want = await history(s, admin);
    await c.until((x) => x.ids.includes(want.at(-1)!.id), 'the last event');
    expect(c.events).toEqual(want);
    expect(new Set(want.map((e) => e.type))).toEqual(
      new Set(['task.created', 'task.status_changed', 'task.progress', 'task.step', 'task.updated', 'task.deleted']),
    );
    expectIncreasing(c.ids);
    for (const f of c.frames.filter((x) => x.data !== undefined)) {
      const e = JSON.parse(f.data!) as WireEvent;
      expect(f.id).toBe(String(e.id));
      expect(f.event).toBe(e.type);
      expectWireEvent(e);
    }
    const step = want.find((e) => e.type === 'task.step' && (e.data.step as { data?: unknown }).data !== undefined);
    expect(step?.data).toMatchObject({ step: { message: 'two', data: { n: 2, text: 'line\nbreak' } } });
    expect((step?.data.step as { time: string }).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('without a resume point the org stream starts live: nothing from before it opened', async () => {
    const { admin } = await s.newOrg();
    await s.createTask(admin, { type: 'before' });
    const c = await s.open('/v1/events', { key: admin });
    await c.until((x) => x.frames.length > 0, 'the retry line');
    const after = await s.createTask(admin, { type: 'after' });
    await c.until((x) => x.events.length > 0, 'an event');
    expect(c.events.map((e) => e.taskId)).toEqual([after.id]);
  });

  it('a live org stream tells its start as an id line with no data; resuming there loses nothing', async () => {
    const { admin } = await s.newOrg();
    await s.createTask(admin, { type: 'before' });
    const [last] = (await history(s, admin)).map((e) => e.id).slice(-1);
    const c = await s.open('/v1/events', { key: admin });
    await c.until((x) => x.frames.length >= 2, 'the retry line and the id');
    expect(c.frames.slice(0, 2)).toMatchObject([{ retry: '2000' }, { id: String(last) }]);
    expect(c.frames[1]!.data).toBeUndefined();
    // The client drops before any event; what is committed meanwhile comes on resume.
    c.close();
    const missed = await s.createTask(admin, { type: 'missed' });
    const again = await s.open('/v1/events', { key: admin, lastEventId: c.lastId! });
    await again.until((x) => x.events.length > 0, 'the missed event');
    expect(again.events.map((e) => e.taskId)).toEqual([missed.id]);
    // A resumed stream, and a task's stream, carry no such line: their first id is an event's.
    expect(again.frames.filter((f) => f.id !== undefined && f.data === undefined)).toEqual([]);
  });

  it('Last-Event-ID wins over after (a reconnecting EventSource sends it while the URL keeps the first after)', async () => {
    const { admin } = await s.newOrg();
    await everyKind(s, admin, {}, { keep: true });
    const all = await history(s, admin);
    const cut = all[3]!.id;
    const c = await s.open(`/v1/events?after=${all[0]!.id}`, { key: admin, lastEventId: String(cut) });
    await c.until((x) => x.ids.includes(all.at(-1)!.id), 'the last event');
    expect(c.ids).toEqual(all.filter((e) => e.id > cut).map((e) => e.id));
  });

  it('filters, each and combined: a stream gets exactly the events its filters all match', async () => {
    const { admin } = await s.newOrg();
    const project = await post<{ id: string }>(s, admin, '/v1/projects', { key: 'FLT', name: 'Filtered' });
    const filters: Record<string, (e: WireEvent, t: Map<string, Record<string, unknown>>) => boolean> = {
      'type=task.created': (e) => e.type === 'task.created',
      'type=task.step&type=task.deleted': (e) => e.type === 'task.step' || e.type === 'task.deleted',
      'taskType=mail.send': (e, t) => t.get(e.taskId)?.type === 'mail.send',
      'listId=L1': (e, t) => t.get(e.taskId)?.listId === 'L1',
      [`projectId=${project.id}`]: (e, t) => t.get(e.taskId)?.projectId === 'FLT',
      'projectId=FLT': (e, t) => t.get(e.taskId)?.projectId === 'FLT',
      'projectId=NOPE': () => false,
      'taskType=mail.send&listId=L1': (e, t) =>
        t.get(e.taskId)?.type === 'mail.send' && t.get(e.taskId)?.listId === 'L1',
      'type=task.status_changed&projectId=FLT&listId=L1': (e, t) =>
        e.type === 'task.status_changed' && t.get(e.taskId)?.projectId === 'FLT' && t.get(e.taskId)?.listId === 'L1',
    };
    const streams = await Promise.all(
      Object.keys(filters).map(async (q) => [q, await s.open(`/v1/events?after=0&${q}`, { key: admin })] as const),
    );
    const bodies = [
      { type: 'mail.send', listId: 'L1', projectId: 'FLT' },
      { type: 'mail.send', listId: 'L2' },
      { type: 'pdf.render', listId: 'L1', projectId: 'FLT' },
      { type: 'pdf.render' },
    ];
    const tasks = new Map<string, Record<string, unknown>>();
    for (const body of bodies) tasks.set((await everyKind(s, admin, body)).id, body);
    const all = await history(s, admin);
    for (const [q, c] of streams) {
      const want = all.filter((e) => filters[q]!(e, tasks));
      if (want.length > 0) await c.until((x) => x.ids.includes(want.at(-1)!.id), `the last event of ${q}`);
      else await c.until((x) => x.frames.length > 0, 'the retry line');
      expect(c.ids, q).toEqual(want.map((e) => e.id));
    }
    // The page form filters the same way.
    for (const q of Object.keys(filters)) {
      expect(
        (await history(s, admin, '/v1/events', `&${q}`)).map((e) => e.id),
        q,
      ).toEqual(all.filter((e) => filters[q]!(e, tasks)).map((e) => e.id));
    }
  });

  it("isolation: a stream never carries another org's event; another org's task is 404 on both routes", async () => {
    const [x, y] = [await s.newOrg(), await s.newOrg()];
    const cx = await s.open('/v1/events?after=0', { key: x.admin });
    const cy = await s.open('/v1/events?after=0', { key: y.admin });
    const ofY: WireTask[] = [];
    for (let i = 0; i < 3; i++) {
      await everyKind(s, x.admin, {}, { keep: true });
      ofY.push(await everyKind(s, y.admin, {}, { keep: true }));
    }
    const [hx, hy] = [await history(s, x.admin), await history(s, y.admin)];
    await cx.until((c) => c.ids.includes(hx.at(-1)!.id), "x's last event");
    await cy.until((c) => c.ids.includes(hy.at(-1)!.id), "y's last event");
    expect(cx.events).toEqual(hx);
    expect(cy.events).toEqual(hy);
    const yTasks = new Set(ofY.map((t) => t.id));
    expect(hx.filter((e) => yTasks.has(e.taskId))).toEqual([]);

    const foreign = await s.open(`/v1/tasks/${ofY[0]!.id}/events`, { key: x.admin });
    await foreign.untilEnded();
    expect(foreign.status).toBe(404);
    expect(foreign.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(foreign.body)).toMatchObject({ code: 'NOT_FOUND' });
    const page = await s.call(x.admin, 'GET', `/v1/tasks/${ofY[0]!.id}/events`, undefined, {
      accept: 'application/json',
    });
    expect(page.statusCode).toBe(404);
  });

  it("a task's stream: its retained history, then live, and it ends once the task is terminal and that event is sent", async () => {
    const { admin } = await s.newOrg();
    const t = await s.createTask(admin, { type: 'one.task' });
    const other = await s.createTask(admin, { type: 'other.task' });
    const c = await s.open(`/v1/tasks/${t.id}/events`, { key: admin });
    await c.until((x) => x.events.length === 1, 'the created event, replayed');
    await s.call(admin, 'PATCH', `/v1/tasks/${other.id}`, { title: 'not this one' });
    await s.call(admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'this one' });
    await post(s, admin, `/v1/tasks/${t.id}/cancel`);
    await c.untilEnded();
    expect(c.endedBy).toBe('end');
    expect(c.events.map((e) => [e.type, e.data.to ?? e.data.cause ?? e.data.status])).toEqual([
      ['task.created', 'queued'],
      ['task.updated', 'patch'],
      ['task.status_changed', 'canceled'],
    ]);
    expect(new Set(c.events.map((e) => e.taskId))).toEqual(new Set([t.id]));
    // By its identifier too, and a terminal task's stream replays its history and ends at once.
    const p = await post<{ id: string; key: string }>(s, admin, '/v1/projects', { key: 'OPS', name: 'Ops' });
    const ops = await s.createTask(admin, { type: 'one.task', projectId: p.key });
    await post(s, admin, `/v1/tasks/${ops.id}/cancel`);
    const byIdentifier = await s.open(`/v1/tasks/${ops.identifier}/events`, { key: admin });
    await byIdentifier.untilEnded();
    expect(byIdentifier.events.map((e) => e.type)).toEqual(['task.created', 'task.status_changed']);
  });

  it("a task's stream is not ended by a failure a retry follows in the same commit; a cancel and a delete in one commit are both sent", async () => {
    const { admin, orgId } = await s.newOrg();
    const t = await s.createTask(admin, { type: 'retried' });
    const c = await s.open(`/v1/tasks/${t.id}/events`, { key: admin });
    await s.call(admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'live now' });
    // Sent from the buffer or live: either way the stream is live once the client has it.
    await c.until((x) => x.events.some((e) => e.type === 'task.updated'), 'the PATCH');
    await s.store.write(async (tx) => {
      const task = await tx.getTaskForUpdate(orgId, t.id);
      const canceled = await s.services.writer.transition(tx, task!, { name: 'cancel' });
      await s.services.writer.transition(tx, canceled, { name: 'retry', deps: { open: [], failed: [] } });
    });
    await c.until((x) => x.events.filter((e) => e.type === 'task.status_changed').length === 2, 'cancel and retry');
    await s.call(admin, 'PATCH', `/v1/tasks/${t.id}`, { title: 'still open' });
    await c.until((x) => x.events.filter((e) => e.type === 'task.updated').length === 2, 'a later event');
    expect(c.ended).toBe(false);

    await post(s, admin, `/v1/tasks/${t.id}/cancel`);
    await c.untilEnded();
    expect(c.events.at(-1)?.data).toMatchObject({ to: 'canceled' });

    const d = await s.createTask(admin, { type: 'deleted' });
    const cd = await s.open(`/v1/tasks/${d.id}/events`, { key: admin });
    await s.call(admin, 'PATCH', `/v1/tasks/${d.id}`, { title: 'live now' });
    await cd.until((x) => x.events.some((e) => e.type === 'task.updated'), 'the PATCH');
    // What DELETE does, in the unit that cancels it: the stream reads both at once.
    await s.store.write(async (tx) => {
      const task = await tx.getTaskForUpdate(orgId, d.id);
      const canceled = await s.services.writer.transition(tx, task!, { name: 'cancel' });
      await tx.deleteTask(orgId, d.id);
      await tx.appendEvents([deletedEvent({ ...canceled, version: canceled.version + 1 })]);
    });
    await cd.untilEnded();
    expect(cd.endedBy).toBe('end');
    expect(cd.events.map((e) => e.type)).toEqual([
      'task.created',
      'task.updated',
      'task.status_changed',
      'task.deleted',
    ]);
  });

  it('404 for a task that does not exist, before any stream starts', async () => {
    const { admin } = await s.newOrg();
    for (const ref of ['01900000-0000-7000-8000-000000000000', 'NOPE-1', 'not-a-task']) {
      const c = await s.open(`/v1/tasks/${ref}/events`, { key: admin });
      await c.untilEnded();
      expect(c.status, ref).toBe(404);
      expect(c.frames).toEqual([]);
    }
  });

  it('the JSON page form: items, nextAfter and reset; limit; the same events as the stream', async () => {
    const { admin } = await s.newOrg();
    const page = (path: string, headers: Record<string, string> = {}) =>
      s.call(admin, 'GET', path, undefined, { accept: 'application/json', ...headers });
    // No resume point: the org's page starts at the last id, with nothing in it.
    const empty = await page('/v1/events');
    expect(empty.statusCode).toBe(200);
    expect(empty.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(empty.json()).toEqual({ items: [], nextAfter: 0, reset: null });

    const t = await everyKind(s, admin, {}, { keep: true });
    const all = await history(s, admin);
    for (const e of all) expectWireEvent(e);
    const lastId = all.at(-1)!.id;
    expect((await page('/v1/events')).json()).toEqual({ items: [], nextAfter: lastId, reset: null });
    // Pages of 1..3 from the start give every event once, nextAfter the last item's id.
    for (const limit of [1, 2, 3]) {
      const seen: WireEvent[] = [];
      for (let after = 0; ;) {
        const body = (await page(`/v1/events?after=${after}&limit=${limit}`)).json<{
          items: WireEvent[];
          nextAfter: number;
        }>();
        expect(body.items.length).toBeLessThanOrEqual(limit);
        expect(body.nextAfter).toBe(body.items.at(-1)?.id ?? after);
        if (body.items.length === 0) break;
        seen.push(...body.items);
        after = body.nextAfter;
      }
      expect(seen, `limit ${limit}`).toEqual(all);
    }
    // A task's page without after: its history; Last-Event-ID works here too.
    expect((await page(`/v1/tasks/${t.id}/events`)).json<{ items: WireEvent[] }>().items).toEqual(all);
    const resumed = await page(`/v1/tasks/${t.id}/events`, { 'last-event-id': String(all[2]!.id) });
    expect(resumed.json<{ items: WireEvent[] }>().items).toEqual(all.slice(3));
    // An id never given: reset, no items, nextAfter the last id.
    expect((await page(`/v1/events?after=${lastId + 1_000_000}`)).json()).toEqual({
      items: [],
      nextAfter: lastId,
      reset: { reason: 'unknown', after: lastId + 1_000_000, lastId },
    });
    expect((await page('/v1/events?limit=1001')).statusCode).toBe(400);
    expect((await page('/v1/events?after=-1')).statusCode).toBe(400);
  });

  it('a resume point above the last id (an id never given): event: reset (unknown) with id: lastId first, then live', async () => {
    const { admin } = await s.newOrg();
    await everyKind(s, admin, {}, { keep: true });
    const lastId = (await history(s, admin)).at(-1)!.id;
    const c = await s.open('/v1/events', { key: admin, lastEventId: String(lastId + 500) });
    await c.until((x) => x.frames.length >= 2, 'the reset');
    expect(c.frames[1]).toMatchObject({ id: String(lastId), event: 'reset' });
    expect(JSON.parse(c.frames[1]!.data!)).toEqual({ reason: 'unknown', after: lastId + 500, lastId });
    const t = await s.createTask(admin, { type: 'after.reset' });
    await c.until((x) => x.events.length === 1, 'the next event');
    expect(c.events[0]).toMatchObject({ type: 'task.created', taskId: t.id });
    expect(c.events[0]!.id).toBeGreaterThan(lastId);
  });

  it('an idle stream sends a `: keepalive` comment every keepalive interval (100 ms here)', async () => {
    const { admin } = await s.newOrg();
    const c = await s.open('/v1/events', { key: admin });
    await c.until((x) => x.frames.filter((f) => f.comment === 'keepalive').length >= 2, 'two keepalive comments');
    const comments = c.frames.filter((f) => f.comment !== undefined);
    expect(comments.every((f) => f.comment === 'keepalive')).toBe(true);
    expect(c.events).toEqual([]);
  });
});

describe.each(BACKENDS)('the per-key cap on open streams ($name)', (backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend, { events: { maxStreamsPerKey: 2 } });
  });
  afterAll(() => s.cleanup());

  it('a key at its cap gets 429 TOO_MANY_STREAMS; another key, and the page form, still get through; a closed stream frees its slot', async () => {
    const { admin } = await s.newOrg();
    const other = (await s.createKey(admin, ['tasks:read'])).secret;
    const t = await s.createTask(admin, { type: 'capped' });
    const first = await s.open('/v1/events', { key: admin });
    const second = await s.open(`/v1/tasks/${t.id}/events`, { key: admin });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(s.services.events.openStreams).toBe(2);

    const third = await s.open('/v1/events', { key: admin });
    await third.untilEnded();
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ status: 429, code: 'TOO_MANY_STREAMS' });
    expect((await s.open('/v1/events', { key: other })).status).toBe(200);
    const page = await s.call(admin, 'GET', '/v1/events', undefined, { accept: 'application/json' });
    expect(page.statusCode).toBe(200);

    // /metrics, scraped over the same port as Prometheus would, shows the node's open streams.
    expect(await openStreamsScraped(s)).toBe(3);

    first.close();
    await waitFor(() => s.services.events.openStreams === 2, 'the closed stream to be counted out');
    expect(await openStreamsScraped(s)).toBe(2);
    expect((await s.open('/v1/events', { key: admin })).status).toBe(200);
  });
});

async function openStreamsScraped(s: StreamServer): Promise<number> {
  const res = await fetch(`${s.url}/metrics`);
  expect(res.status).toBe(200);
  return new Scrape(await res.text()).value('tasklane_event_streams_open');
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
