/**
 * The switch from replay to live of an event stream, proven step by step rather than hoped for
 * under load: a stream registers with the feed, its replay is held back by a client that does not
 * read, events commit meanwhile (the feed buffers them for it), then the client reads again. Every
 * event of the org must reach the output once, in id order. First with a scripted replay source
 * (every overlap of replay and buffer), then through EventService on SQLite and PostgreSQL.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { EventStream, type EndReason, type StreamOutput, type StreamReset } from '../../src/service/event-stream.js';
import type { Principal } from '../../src/service/principal.js';
import { createServices, type Services } from '../../src/service/services.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { EventBounds, StoredEvent, TaskStore } from '../../src/storage/task-store.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import { tempDir } from '../helpers/sqlite.js';

/** An output whose client reads only when the test says: `hold()` until `release()`. */
class HeldOutput implements StreamOutput {
  readonly sent: number[] = [];
  readonly resets: StreamReset[] = [];
  /** The resume points told without an event (a live org stream's first line). */
  readonly positions: number[] = [];
  ended: EndReason | null = null;
  private held = 0;
  private waiting: Array<() => void> = [];
  private readonly watchers = new Set<() => void>();

  /** From now on the client holds 100 KB unread: the replay waits after its next event. */
  hold(): void {
    this.held = 100_000;
  }

  release(): void {
    this.held = 0;
    for (const w of this.waiting.splice(0)) w();
  }

  /** Whether the replay is waiting for the client. */
  get blocked(): boolean {
    return this.waiting.length > 0;
  }

  event(e: StoredEvent): void {
    this.sent.push(e.id);
    this.wake();
  }
  reset(r: StreamReset): void {
    this.resets.push(r);
  }
  position(id: number): void {
    this.positions.push(id);
  }
  sizeOf(): number {
    return 100;
  }
  get queued(): number {
    return this.held;
  }
  drained(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.wake();
    });
  }
  end(reason: EndReason): void {
    this.ended = reason;
    this.wake();
  }

  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sent ${this.sent.length}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.watchers.delete(done);
          resolve();
        };
        this.watchers.add(done);
        setTimeout(done, 20);
      });
    }
  }

  private wake(): void {
    for (const w of [...this.watchers]) w();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function event(id: number): StoredEvent {
  return {
    id,
    orgId: 'o',
    taskId: 't',
    type: 'task.updated',
    taskType: 'x',
    listId: null,
    projectId: null,
    time: 0,
    data: { cause: 'patch', version: id },
  };
}

describe('EventStream: replay, then what the feed buffered, each id once', () => {
  /** A store of `ids`, read in pages as EventService reads it. */
  const source = (
    ids: () => number[],
    bounds: () => EventBounds = () => ({ horizon: 0, lastId: ids().at(-1) ?? 0 }),
  ) => ({
    page: async (afterId: number, limit: number) => ({
      events: ids()
        .filter((id) => id > afterId)
        .slice(0, limit)
        .map(event),
      bounds: bounds(),
    }),
    taskStatus: async () => ({ status: null, bounds: bounds() }),
  });
  const stream = (output: StreamOutput, ids: () => number[], position = 0, maxQueuedBytes = 1 << 20) =>
    new EventStream({
      orgId: 'o',
      filter: {},
      output,
      source: source(ids),
      position,
      reset: null,
      task: null,
      maxQueuedBytes,
      onEnd: () => undefined,
    });

  it('every overlap of the replay (up to the cursor) and the buffer (what the feed pushed) sends each id once, in order', async () => {
    // The cursor the feed told (`cursor`), the org's last id at open (`lastId`), and what the feed
    // pushed while the stream replayed: from below the cursor (a read that finished during the
    // registration) to well past it.
    for (const [cursor, lastId] of [
      [300, 300],
      [250, 300],
      [300, 250],
    ] as const) {
      for (const pushedFrom of [200, 251, 301]) {
        const committed = range(1, 400);
        const output = new HeldOutput();
        const s = stream(output, () => committed);
        s.replayThrough(cursor, lastId);
        for (const id of range(pushedFrom, 350)) s.push(event(id), 1);
        output.hold();
        const running = s.run();
        await output.until(() => output.blocked, 'the replay to wait for the client');
        for (const id of range(351, 380)) s.push(event(id), 2);
        output.release();
        await running;
        for (const id of range(381, 400)) s.push(event(id), 3);
        const what = `cursor ${cursor}, last id ${lastId}, pushed from ${pushedFrom}`;
        // What the feed pushed starts above the cursor, or the stream would have had a gap: the
        // cases below the cursor are a read that overlapped the registration.
        expect(output.sent, what).toEqual(range(1, 400));
        expect(output.ended, what).toBeNull();
      }
    }
  });

  it('a client that holds more than the cap when a read of the feed begins is cut (behind), and nothing more is sent', async () => {
    const output = new HeldOutput();
    const s = stream(output, () => range(1, 300), 0, 150_000);
    s.replayThrough(300, 300);
    output.hold();
    const running = s.run();
    await output.until(() => output.blocked, 'the replay to wait');
    // One read of the feed may carry any amount: it is not held against the client.
    for (const id of range(301, 900)) s.push(event(id), 1);
    expect(output.ended).toBeNull();
    // A read that begins with 100 KB unread plus 600 buffered events (60 KB) held: over 150 KB.
    s.push(event(901), 2);
    expect(output.ended).toBe('behind');
    output.release();
    await running;
    expect(output.sent).toEqual([1]);
  });
});

interface Backend {
  name: string;
  open(): Promise<{ store: TaskStore; cleanup: () => Promise<void> }>;
}
const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir();
      const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock: systemClock });
      await store.migrate();
      return {
        store,
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
if (pgUrl() !== null) {
  const fresh = freshSchema('event-switch');
  BACKENDS.push({
    name: 'postgres',
    async open() {
      const { store, cleanup } = await fresh();
      return { store, cleanup };
    },
  });
}

describe.each(BACKENDS)('EventService: the switch on a real store ($name)', (backend) => {
  let services: Services | null = null;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    services?.events.close();
    await cleanup?.();
  });

  it('events committed while the replay waits for the client come from the buffer: the org history, each event once', async () => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    const store = opened.store;
    const svc = createServices(store, { clock: systemClock });
    services = svc;
    const orgId = 'switch';
    await store.write((tx) => tx.insertOrg({ id: orgId, name: 'Switch', createdAt: Date.now() }));
    const principal: Principal = { orgId, keyId: 'k', keyName: 'k', scopes: ['admin'] };
    const caller = { orgId, keyName: 'k' };
    /** `n` tasks in one unit: `n` task.created events. */
    const commit = (n: number) =>
      svc.tasks.createBatch(caller, { tasks: Array.from({ length: n }, () => ({ type: 'switch' })) });

    await commit(300);
    const output = new HeldOutput();
    const stream = await svc.events.open(principal, { after: 0 }, output);
    // A second stream, live, tells when the feed has dispatched: both get a read's events in one step.
    const probe = new HeldOutput();
    const live = await svc.events.open(principal, {}, probe);
    void live.run();
    expect(svc.events.openStreams).toBe(2);

    output.hold();
    const running = stream.run();
    await output.until(() => output.blocked, 'the replay to wait for the client');
    await commit(50);
    await probe.until(() => probe.sent.length === 50, 'the feed to dispatch 50 events');
    output.release();
    await running;
    await commit(50);
    await probe.until(() => probe.sent.length === 100, 'the feed to dispatch 50 more');

    const all = await store.read((tx) => tx.listEvents(orgId, 0, 1000));
    expect(all).toHaveLength(400);
    await output.until(() => output.sent.length >= 400, 'every event on the stream');
    expect(output.sent).toEqual(all.map((e) => e.id));
    expect(probe.sent).toEqual(all.slice(300).map((e) => e.id));
    // The live stream told its start first: the last event before it opened.
    expect(probe.positions).toEqual([all[299]!.id]);
    expect(output.positions).toEqual([]);
    expect(output.resets).toEqual([]);
    expect(output.ended).toBeNull();
  });
});
