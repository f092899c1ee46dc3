/**
 * The SDK's live clients against a real server on a real port, on SQLite and PostgreSQL (when
 * TASKLANE_TEST_PG_URL is set): `events.stream` and `tasks.watch` yield typed events in id order,
 * each once, across connections the server cuts (abruptly, or by ending the response); a lost resume
 * point comes through as a `reset` item; an aborted signal ends the loop and closes the connection;
 * `events.page` reads the JSON form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, everyKind, history, post, serverOn, type Backend } from '../../server/test/e2e/events/fixture.js';
import { until, type WireTask } from '../../server/test/helpers/http-harness.js';
import type { StreamServer } from '../../server/test/helpers/sse.js';
import { TasklaneApiError, TasklaneClient, type StreamItem } from '../src/index.js';

const BACKENDS = backends('sdk-live');
/** Reconnect at once in tests: the backoff is bounded, not what is under test here. */
const FAST = { initialDelayMs: 20, maxDelayMs: 200 };
const DAY_MS = 24 * 3600 * 1000;

/** Collects what an iterator yields as it comes; `done` once it ends (or throws). */
function collect(items: AsyncIterable<StreamItem>) {
  const got: StreamItem[] = [];
  const done = (async () => {
    for await (const item of items) got.push(item);
  })();
  return { got, done, ids: () => got.flatMap((i) => (i.type === 'reset' ? [] : [i.id])) };
}

/** Cuts every connection of the server: its streams and the client's idle keep-alive sockets. */
const cutAll = (s: StreamServer) => s.app.server.closeAllConnections();

describe.each(BACKENDS)('live clients ($name)', (backend: Backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend);
  });
  afterAll(() => s.cleanup());

  const clientOf = (key: string) => new TasklaneClient({ url: s.url, key });

  it('events.stream yields every kind of event, typed, in id order, as the store has them; page reads the same', async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    const ac = new AbortController();
    const c = collect(client.events.stream({}, { signal: ac.signal, ...FAST }));
    await until(() => s.services.events.openStreams > 0, 'the stream open');
    await everyKind(s, admin, { listId: 'l1' });
    const want = await history(s, admin);
    await until(() => c.ids().includes(want.at(-1)!.id), 'the last event');
    ac.abort();
    await c.done;
    expect(c.got).toEqual(want);
    const progress = c.got.find((i) => i.type === 'task.progress');
    // The item's type narrows its data.
    if (progress?.type !== 'task.progress') throw new Error('no progress event');
    expect(progress.data.progressMessage).toBe('half');

    const first = await client.events.page({ after: 0, limit: 3 });
    expect(first).toEqual({ items: want.slice(0, 3), nextAfter: want[2]!.id, reset: null });
    const steps = await client.events.page({ after: 0, type: ['task.step'] });
    expect(steps.items.map((e) => e.type)).toEqual(['task.step', 'task.step']);
    expect((await client.events.page()).items).toEqual([]);
  });

  it('events.stream filters, and a bad filter throws VALIDATION_FAILED before any stream', async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    const ac = new AbortController();
    const c = collect(client.events.stream({ listId: 'mine', type: ['task.created'] }, { signal: ac.signal }));
    await until(() => s.services.events.openStreams > 0, 'the stream open');
    await s.createTask(admin, { type: 'x', listId: 'other' });
    const mine = await s.createTask(admin, { type: 'x', listId: 'mine' });
    await until(() => c.got.length > 0, 'the event');
    ac.abort();
    await c.done;
    expect(c.got).toMatchObject([{ type: 'task.created', taskId: mine.id }]);

    const bad = client.events.stream({ listId: '' })[Symbol.asyncIterator]().next();
    await expect(bad).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  });

  it('resumes after the server cuts the connection mid-stream, abruptly or cleanly: every event once, no gap', async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    const ac = new AbortController();
    const c = collect(client.events.stream({}, { signal: ac.signal, ...FAST }));
    await until(() => s.services.events.openStreams > 0, 'the stream open');
    // A writer goes on while the stream is cut again and again, both ways, before and after events.
    for (let round = 0; round < 6; round++) {
      await s.createTask(admin, { type: `round.${round}` });
      await s.createTask(admin, { type: `round.${round}` });
      if (round % 2 === 0) cutAll(s);
      else s.services.events.endAll();
      await s.createTask(admin, { type: `round.${round}` });
      await until(() => s.services.events.openStreams > 0, 'the stream open again');
    }
    const want = (await history(s, admin)).map((e) => e.id);
    expect(want).toHaveLength(18);
    await until(() => c.ids().includes(want.at(-1)!), 'the last event', 20_000);
    ac.abort();
    await c.done;
    expect(c.ids()).toEqual(want);
    expect(c.got.some((i) => i.type === 'reset')).toBe(false);
  });

  it('a stream cut before its first event still gets what was committed meanwhile', async () => {
    const { admin } = await s.newOrg();
    await s.createTask(admin, { type: 'before' });
    const client = clientOf(admin);
    const ac = new AbortController();
    const c = collect(client.events.stream({}, { signal: ac.signal, ...FAST, initialDelayMs: 300 }));
    await until(() => s.services.events.openStreams > 0, 'the stream open');
    cutAll(s);
    // Committed while the client waits to reconnect.
    const missed = await s.createTask(admin, { type: 'missed' });
    await until(() => c.got.length > 0, 'the missed event');
    ac.abort();
    await c.done;
    expect(c.got).toMatchObject([{ type: 'task.created', taskId: missed.id }]);
  });

  it('a connection silent for idleTimeoutMs is dropped and resumed, losing nothing', async () => {
    const { admin } = await s.newOrg();
    let opened = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).includes('/v1/events')) opened++;
      return fetch(input, init);
    };
    const client = new TasklaneClient({ url: s.url, key: admin, fetch: counting });
    const ac = new AbortController();
    // This server's keepalive is 15 s: with 150 ms of silence allowed, the stream reconnects all along.
    const c = collect(client.events.stream({}, { signal: ac.signal, ...FAST, idleTimeoutMs: 150 }));
    for (let i = 0; i < 4; i++) {
      const before = opened;
      await until(() => opened > before + 1, 'a reconnect after a silence');
      await s.createTask(admin, { type: `quiet.${i}` });
    }
    const want = (await history(s, admin)).map((e) => e.id);
    await until(() => c.ids().includes(want.at(-1)!), 'the last event');
    ac.abort();
    await c.done;
    expect(c.ids()).toEqual(want);
  });

  it('a key revoked while its stream was away: the resume answers 401, and the iterator throws it', async () => {
    const { admin } = await s.newOrg();
    const adminClient = clientOf(admin);
    const key = await adminClient.keys.create({ name: 'reader', scopes: ['tasks:read'] });
    const c = collect(clientOf(key.secret).events.stream({}, FAST));
    await until(() => s.services.events.openStreams > 0, 'the stream open');
    await adminClient.keys.revoke(key.id);
    cutAll(s);
    await expect(c.done).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('an aborted signal ends the loop quietly and closes the connection, on a stream and on a watch', async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    // Streams of earlier tests close on the server a moment after their clients left.
    await until(() => s.services.events.openStreams === 0, 'no stream left open');
    const ac = new AbortController();
    const stream = collect(client.events.stream({}, { signal: ac.signal }));
    // The stream starts live: its start point is fixed once it is open, so the task comes after it.
    await until(() => s.services.events.openStreams === 1, 'the org stream open');
    const t = await s.createTask(admin, { type: 'held' });
    const watch = collect(client.tasks.watch(t.id, { signal: ac.signal }));
    await until(() => watch.got.length > 0 && stream.got.length > 0, 'both streams delivering');
    ac.abort();
    await Promise.all([stream.done, watch.done]);
    await until(() => s.services.events.openStreams === 0, 'the streams closed on the server');
    expect(watch.got).toMatchObject([{ type: 'task.created', taskId: t.id }]);
  });

  it("tasks.watch yields the task's history, then its live events, and ends after its terminal status change", async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    const t = await s.createTask(admin, { type: 'watched' });
    const c = collect(client.tasks.watch(t.id, FAST));
    await until(() => c.got.length > 0, 'the created event');
    const claimed = await post<WireTask>(s, admin, `/v1/tasks/${t.id}/claim`, { workerId: 'w' });
    const leaseId = claimed.lease?.id;
    await post(s, admin, `/v1/tasks/${t.id}/heartbeat`, { leaseId, progress: 0.25, progressMessage: 'a quarter' });
    await post(s, admin, `/v1/tasks/${t.id}/steps`, { leaseId, steps: [{ message: 'step one' }] });
    await until(() => c.got.some((i) => i.type === 'task.step'), 'the step');
    cutAll(s); // mid-watch: it resumes after the last id
    await post(s, admin, `/v1/tasks/${t.id}/fail`, { leaseId, error: { code: 'E', message: 'no' }, retryable: false });
    await c.done;
    const want = await history(s, admin, `/v1/tasks/${t.id}/events`);
    expect(c.got).toEqual(want);
    expect(c.got.at(-1)).toMatchObject({ type: 'task.status_changed', data: { to: 'failed' } });

    // A terminal task: its history, then the end; an unknown one: NOT_FOUND.
    const again = collect(client.tasks.watch(t.identifier ?? t.id));
    await again.done;
    expect(again.got).toEqual(want);
    const missing = collect(client.tasks.watch('01900000-0000-7000-8000-000000000000'));
    await expect(missing.done).rejects.toBeInstanceOf(TasklaneApiError);
    await expect(missing.done).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('tasks.watch ends after a cancel', async () => {
    const { admin } = await s.newOrg();
    const client = clientOf(admin);
    const a = await s.createTask(admin, { type: 'to.cancel' });
    const ca = collect(client.tasks.watch(a.id, FAST));
    await until(() => ca.got.length > 0, 'the created event');
    await post(s, admin, `/v1/tasks/${a.id}/cancel`, {});
    await ca.done;
    expect(ca.got.at(-1)).toMatchObject({ type: 'task.status_changed', data: { to: 'canceled' } });
  });
});

describe.each(BACKENDS)('a lost resume point, a full server ($name)', (backend: Backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend, { manualClock: true, events: { maxStreamsPerKey: 1 } });
  });
  afterAll(async () => {
    // After the 429 retries, fetch's pool holds a connection or two that never carried a request;
    // app.close() would wait for their headers (60 s). A real server's close cuts them too.
    cutAll(s);
    await s.cleanup();
  });

  it('comes through as a typed reset item, then the stream goes on live', async () => {
    const { admin } = await s.newOrg();
    await s.createTask(admin, { type: 'old' });
    await s.createTask(admin, { type: 'old' });
    const old = await history(s, admin);
    s.manualClock!.advance(DAY_MS + 60_000);
    await s.createTask(admin, { type: 'kept' });
    await s.services.maintenance.reapOnce();
    const lastId = (await history(s, admin, '/v1/events', '', old.at(-1)!.id)).at(-1)!.id;

    const ac = new AbortController();
    const c = collect(
      new TasklaneClient({ url: s.url, key: admin }).events.stream({}, { after: old[0]!.id, signal: ac.signal }),
    );
    await until(() => c.got.length > 0, 'the reset');
    const live = await s.createTask(admin, { type: 'live' });
    await until(() => c.got.length > 1, 'the live event');
    ac.abort();
    await c.done;
    expect(c.got).toMatchObject([
      { type: 'reset', data: { reason: 'expired', after: old[0]!.id, lastId } },
      { type: 'task.created', taskId: live.id },
    ]);
  });

  it('429 TOO_MANY_STREAMS is waited out: the stream connects once a slot frees, and misses nothing', async () => {
    const { admin } = await s.newOrg();
    const client = new TasklaneClient({ url: s.url, key: admin });
    // The stream of the test before closes on the server a moment after its client left.
    await until(() => s.services.events.openStreams === 0, 'no stream left open');
    const first = new AbortController();
    const a = collect(client.events.stream({}, { signal: first.signal }));
    await until(() => s.services.events.openStreams > 0, 'the first stream open');
    const second = new AbortController();
    let refused = 0;
    const b = collect(client.events.stream({}, { signal: second.signal, ...FAST, onReconnect: () => void refused++ }));
    // Refused once: its start point (read before it connects) is fixed, so the task comes after it.
    await until(() => refused > 0, 'the second stream refused with 429');
    const t = await s.createTask(admin, { type: 'while.waiting' });
    await until(() => a.got.length > 0, 'the event on the first stream');
    expect(b.got).toEqual([]);
    first.abort();
    await a.done;
    await until(() => b.got.length > 0, 'the event on the second, once it got in');
    second.abort();
    await b.done;
    expect(b.got).toEqual(a.got);
    expect(b.got).toMatchObject([{ type: 'task.created', taskId: t.id }]);
  });
});
