/**
 * A client that stops reading, on SQLite and PostgreSQL: its stream is cut once what it holds
 * unread passes the cap (1 MiB, the default), while the streams that read get every event; the cut
 * client resumes from the last id it got and misses nothing. Events here are steps carrying
 * 200 KiB of data each, so that the sockets' own buffers fill within a few megabytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamServer } from '../../helpers/sse.js';
import { backends, expectIncreasing, post, serverOn } from './fixture.js';

const BACKENDS = backends('event-backpressure');
const CAP = 1024 * 1024;
/** Far more than loopback sockets buffer: a stream not cut by then is not cut at all. */
const MAX_BYTES = 48 * 1024 * 1024;

describe.each(BACKENDS)('a stalled reader ($name)', (backend) => {
  let s: StreamServer;
  beforeAll(async () => {
    s = await serverOn(backend, { events: { maxQueuedBytes: CAP } });
  });
  afterAll(() => s.cleanup());

  it('is cut at its cap while the other streams keep receiving every event; it resumes from its last id', async () => {
    const { admin, orgId } = await s.newOrg();
    const readers = [await s.open('/v1/events', { key: admin }), await s.open('/v1/events', { key: admin })];
    const stalled = await s.open('/v1/events', { key: admin });
    for (const c of [...readers, stalled]) await c.until((x) => x.frames.length > 0, 'the retry line');
    stalled.pause();
    expect(s.services.events.openStreams).toBe(3);

    const t = await s.createTask(admin, { type: 'bulky' });
    const blob = 'x'.repeat(200 * 1024);
    let written = 0;
    let calls = 0;
    while (s.services.events.openStreams === 3) {
      if (written > MAX_BYTES) throw new Error(`the stalled stream was not cut after ${written} bytes of events`);
      await post(s, admin, `/v1/tasks/${t.id}/steps`, {
        steps: [{ message: `step ${calls}`, data: { blob } }],
      });
      written += blob.length;
      calls++;
      // Let the feed read and the sockets move before the next write.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // A few more after the cut: the readers get them too.
    for (let i = 0; i < 3; i++) await post(s, admin, `/v1/tasks/${t.id}/steps`, { steps: [{ message: `after ${i}` }] });
    const all = (await s.store.read((tx) => tx.listEvents(orgId, 0, 100_000))).map((e) => e.id);
    for (const r of readers) {
      await r.until((x) => x.ids.includes(all.at(-1)!), 'every event', 30_000);
      expect(r.ids).toEqual(all);
      expect(r.ended).toBe(false);
    }
    console.log(
      `[events] ${backend.name}: a stalled reader was cut after ${(written / 1048576).toFixed(1)} MiB of events ` +
        `(cap ${CAP / 1024} KiB); the 2 readers got all ${all.length} events`,
    );

    // What reached the stalled client before the cut, then the rest from its last id.
    stalled.resume();
    await stalled.untilEnded(30_000);
    const got = stalled.ids;
    expect(got.length).toBeLessThan(all.length);
    const resumed = await s.open('/v1/events', { key: admin, lastEventId: stalled.lastId ?? '0' });
    await resumed.until((x) => x.ids.includes(all.at(-1)!), 'the rest', 30_000);
    const together = [...got, ...resumed.ids];
    expectIncreasing(together);
    expect(together).toEqual(all);
  }, 120_000);
});
