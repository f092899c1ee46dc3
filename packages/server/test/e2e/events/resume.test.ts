/**
 * Resuming event streams by id, on SQLite and PostgreSQL: a resume cut at every position of a
 * recorded history gets every later event exactly once (then live); a resume point the reaper has
 * passed gets `reset` (expired); and the switch from replay to live under concurrent writers, with
 * streams connecting all along at various resume points, loses nothing and repeats nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireTask } from '../../helpers/http-harness.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import type { SseClient, StreamServer } from '../../helpers/sse.js';
import { backends, everyKind, expectIncreasing, history, post, serverOn } from './fixture.js';

const BACKENDS = backends('event-resume');
const DAY_MS = 24 * 3600 * 1000;

describe.each(BACKENDS)('resuming event streams ($name)', (backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend);
  });
  afterAll(() => s.cleanup());

  it('an org stream resumed at every position of a recorded history gets each later event once, then live ones', async () => {
    const { admin } = await s.newOrg();
    for (let i = 0; i < 2; i++) await everyKind(s, admin, { listId: `l${i}` });
    const recorded = await history(s, admin);
    const ids = recorded.map((e) => e.id);
    // Every position: before the first event, at each id, and between ids where they skip.
    const cuts = [...new Set([0, ...ids, ...ids.map((id) => id - 1)])].sort((a, b) => a - b);
    const streams = await Promise.all(
      cuts.map(async (cut) => [cut, await s.open('/v1/events', { key: admin, lastEventId: String(cut) })] as const),
    );
    for (const [cut, c] of streams) {
      const want = ids.filter((id) => id > cut);
      if (want.length > 0) await c.until((x) => x.ids.includes(ids.at(-1)!), `the replay after ${cut}`);
      else await c.until((x) => x.frames.length > 0, 'the retry line');
      expect(c.ids, `after ${cut}`).toEqual(want);
      expect(c.frames.some((f) => f.event === 'reset')).toBe(false);
    }
    const live = await s.createTask(admin, { type: 'live' });
    for (const [cut, c] of streams) {
      await c.until((x) => x.events.some((e) => e.taskId === live.id), `the live event after ${cut}`);
      expect(c.ids, `after ${cut}`).toEqual([...ids.filter((id) => id > cut), c.ids.at(-1)]);
      expect(c.events.at(-1)).toMatchObject({ type: 'task.created', taskId: live.id });
    }
  });

  it("a task's stream resumed at every position gets the rest of its events once, then ends (the task is terminal)", async () => {
    const { admin } = await s.newOrg();
    const t = await everyKind(s, admin, {}, { keep: true });
    await s.createTask(admin, { type: 'noise' });
    const ofTask = (await history(s, admin, `/v1/tasks/${t.id}/events`)).map((e) => e.id);
    expect(ofTask.length).toBeGreaterThanOrEqual(7);
    for (const cut of [0, ...ofTask]) {
      const c = await s.open(`/v1/tasks/${t.id}/events`, { key: admin, lastEventId: String(cut) });
      await c.untilEnded();
      expect(c.endedBy, `after ${cut}`).toBe('end');
      expect(c.ids, `after ${cut}`).toEqual(ofTask.filter((id) => id > cut));
    }
  });

  it('the switch from replay to live under concurrent writers: every stream gets each event after its resume point once, in order', async () => {
    const { admin } = await s.newOrg();
    const random = seededRandom(7);
    const WRITERS = 4;
    const ROUNDS = 12;
    const tasks: WireTask[] = [];
    interface Opened {
      what: string;
      /** The resume point sent, or null (an org stream live from now; a task stream from its start). */
      after: number | null;
      taskId: string | null;
      client: SseClient;
    }
    const opened: Opened[] = [];
    /** A stream connecting while the others write: live, from the start, from an earlier id, from the last id, or a task's. */
    const connect = async (n: number) => {
      const page = await s.call(admin, 'GET', '/v1/events', undefined, { accept: 'application/json' });
      const lastId = page.json<{ nextAfter: number }>().nextAfter;
      const kind = n % 5;
      const after = kind === 0 ? null : kind === 1 ? 0 : kind === 2 ? Math.floor(random() * lastId) : lastId;
      const task = kind === 4 ? tasks.at(-1) : undefined;
      const path = task === undefined ? '/v1/events' : `/v1/tasks/${task.id}/events`;
      const client = await s.open(path, {
        key: admin,
        ...(after === null || task !== undefined ? {} : { lastEventId: String(after) }),
      });
      expect(client.status).toBe(200);
      opened.push({
        what: `${path} after ${task === undefined ? after : null}`,
        after: task === undefined ? after : null,
        taskId: task?.id ?? null,
        client,
      });
    };
    /** Each round: a create, two PATCHes and a cancel (four events of one task), then a stream connects. */
    const writer = async (w: number) => {
      for (let r = 0; r < ROUNDS; r++) {
        const t = await s.createTask(admin, { type: `writer.${w}` });
        tasks.push(t);
        await s.call(admin, 'PATCH', `/v1/tasks/${t.id}`, { title: `w${w} r${r} a` });
        await s.call(admin, 'PATCH', `/v1/tasks/${t.id}`, { title: `w${w} r${r} b` });
        await post(s, admin, `/v1/tasks/${t.id}/cancel`);
        await connect(w * ROUNDS + r);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const marker = await s.createTask(admin, { type: 'marker' });
    const all = await history(s, admin);
    const ids = all.map((e) => e.id);
    expect(ids.length).toBe(WRITERS * ROUNDS * 4 + 1);
    expectIncreasing(ids);
    expect(opened.length).toBe(WRITERS * ROUNDS);

    for (const o of opened) {
      const c = o.client;
      if (o.taskId !== null) {
        // A task's stream: its whole history, then the end once it was canceled.
        await c.untilEnded();
        expect(c.ids, o.what).toEqual(all.filter((e) => e.taskId === o.taskId).map((e) => e.id));
        continue;
      }
      await c.until((x) => x.events.some((e) => e.taskId === marker.id), `the marker on ${o.what}`);
      expectIncreasing(c.ids);
      if (o.after === null) {
        // Live from the moment it opened: a contiguous run of the history up to the marker.
        const from = ids.indexOf(c.ids[0]!);
        expect(from, o.what).toBeGreaterThanOrEqual(0);
        expect(c.ids, o.what).toEqual(ids.slice(from));
      } else {
        expect(c.ids, o.what).toEqual(ids.filter((id) => id > o.after!));
      }
    }
  }, 60_000);
});

describe.each(BACKENDS)('reset past retention ($name)', (backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend, { manualClock: true });
  });
  afterAll(() => s.cleanup());

  it('a resume point below the horizon (events reaped) gets event: reset (expired), then live; at the horizon it resumes', async () => {
    const { admin } = await s.newOrg();
    const old = await everyKind(s, admin, {}, { keep: true });
    const reaped = await history(s, admin);
    s.manualClock!.advance(DAY_MS + 60_000);
    const kept = await s.createTask(admin, { type: 'kept' });
    await s.services.maintenance.reapOnce();
    const horizon = reaped.at(-1)!.id;
    const left = await history(s, admin, '/v1/events', '', horizon);
    expect(left.map((e) => e.taskId)).toEqual([kept.id]);
    const lastId = left.at(-1)!.id;

    const c = await s.open('/v1/events', { key: admin, lastEventId: String(reaped[1]!.id) });
    await c.until((x) => x.frames.length >= 2, 'the reset');
    expect(c.frames[1]).toMatchObject({ id: String(lastId), event: 'reset' });
    expect(JSON.parse(c.frames[1]!.data!)).toEqual({ reason: 'expired', after: reaped[1]!.id, lastId });
    const next = await s.createTask(admin, { type: 'next' });
    await c.until((x) => x.events.length === 1, 'the next event');
    expect(c.events[0]).toMatchObject({ taskId: next.id });

    // At the horizon nothing was missed: no reset, the retained events follow.
    const at = await s.open('/v1/events', { key: admin, lastEventId: String(horizon) });
    await at.until((x) => x.events.some((e) => e.taskId === next.id), 'the retained events');
    expect(at.frames.some((f) => f.event === 'reset')).toBe(false);
    expect(at.ids).toEqual([lastId, c.ids[0]]);

    // The page form: reset, no items, nextAfter the last id.
    const page = await s.call(admin, 'GET', `/v1/events?after=${reaped[0]!.id}`, undefined, {
      accept: 'application/json',
    });
    expect(page.json()).toMatchObject({ items: [], reset: { reason: 'expired', after: reaped[0]!.id } });

    // A task whose early events were reaped: its stream replays what is left, with no reset.
    const t = await s.open(`/v1/tasks/${old.id}/events`, { key: admin });
    await t.untilEnded();
    expect(t.frames.filter((f) => f.event !== undefined)).toEqual([]);
  });
});
