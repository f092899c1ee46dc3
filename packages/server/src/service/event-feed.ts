/**
 * The node's one fan-out of committed events to its open event streams (GET /v1/events, a task's
 * events). However many streams are open, an org's events are read once per change, not once per
 * stream.
 *
 * How it stays correct under concurrency:
 * - One subscription to the store's changes: this node's commits at once, other nodes' through
 *   the store's change feed (LISTEN/NOTIFY on PostgreSQL). A change of an org with open streams
 *   wakes that org; a change of any other org costs one map lookup.
 * - Per org, one read at a time: a wake reads `listEvents(org, cursor, 1000)` and dispatches each
 *   event to the org's streams whose filter matches, then moves the cursor to the last id read. A
 *   wake during a read marks the org dirty and the reader reads once more after it: many changes
 *   during one read cost one more read, not many.
 * - Event ids become visible in increasing order (StoredEvent.id), so reading "after the cursor"
 *   never skips an event that commits later. Dispatch and the cursor's move happen in one
 *   synchronous step after the read: a stream registered at any moment gets every event above the
 *   cursor it was told (`register`), and nothing below it.
 * - Dispatch never waits: `FeedSink.push` queues or writes and returns. A stream that cannot keep
 *   up is the stream's problem (it closes itself), never the feed's or the other streams'.
 * - A poll wakes each org whose streams have not been read for a second (by default): a
 *   notification lost between nodes delays an event by about that, and never loses it.
 */
import type { EventFilter, StoredEvent, TaskStore, Unsubscribe } from '../storage/task-store.js';

/** An open stream, as the feed sees it. */
export interface FeedSink {
  readonly orgId: string;
  readonly filter: EventFilter;
  /**
   * One matching event, in id order; must not block or throw. `read` numbers the feed's reads
   * (every event of one read carries the same number): a sink may measure its client once a read.
   */
  push(event: StoredEvent, read: number): void;
}

export interface EventFeedOptions {
  /** How often orgs with open streams are read even without a change (default 1000 ms). */
  pollIntervalMs?: number;
  /** Told when a read fails (storage down); the next wake or poll reads again. */
  onError?: (err: unknown) => void;
}

/** Events read per statement; a full page is followed by another read at once. */
const BATCH = 1000;

interface OrgFeed {
  readonly orgId: string;
  /** Every event up to this id has been dispatched; -1 until read from the store. */
  cursor: number;
  /** Resolves once `cursor` is known (the org's last event id when the feed began watching it). */
  ready: Promise<void>;
  /** Streams of the whole org (filtered by type, task type, list, project). */
  readonly org: Set<FeedSink>;
  /** Streams of one task, by task id: an event costs one lookup for them, not one test per stream. */
  readonly byTask: Map<string, Set<FeedSink>>;
  streams: number;
  reading: boolean;
  dirty: boolean;
  /** performance.now() of the last read that finished. */
  lastReadAt: number;
}

export class EventFeed {
  private readonly orgs = new Map<string, OrgFeed>();
  /** Reads so far, across orgs: the number of the next read's events (FeedSink.push). */
  private reads = 0;
  private readonly pollIntervalMs: number;
  private poller: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | null;

  constructor(
    private readonly store: TaskStore,
    private readonly opts: EventFeedOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.unsubscribe = store.subscribe((change) => {
      const org = this.orgs.get(change.orgId);
      if (org !== undefined) this.wake(org);
    });
  }

  /**
   * Start pushing the events of `sink`'s org that match its filter. Resolves with the cursor: the
   * sink gets every matching event with a higher id (some may have come already), and must take
   * the ones up to it from the store. Rejects when the store cannot say where the org's events end.
   */
  async register(sink: FeedSink): Promise<number> {
    let org = this.orgs.get(sink.orgId);
    if (org === undefined) org = this.watch(sink.orgId);
    add(org, sink);
    try {
      await org.ready;
    } catch (err) {
      this.unregister(sink);
      throw err;
    }
    // Events after the cursor come with the next change's wake (or poll); those up to it, and up to
    // the org's last id the stream saw, the stream reads itself: no read here.
    return org.cursor;
  }

  unregister(sink: FeedSink): void {
    const org = this.orgs.get(sink.orgId);
    if (org === undefined || !remove(org, sink)) return;
    if (org.streams === 0) {
      this.orgs.delete(sink.orgId);
      if (this.orgs.size === 0) this.stopPolling();
    }
  }

  /** Orgs with at least one open stream. */
  get orgCount(): number {
    return this.orgs.size;
  }

  /** Stops listening for changes; streams still registered get nothing more. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.orgs.clear();
    this.stopPolling();
  }

  private watch(orgId: string): OrgFeed {
    const org: OrgFeed = {
      orgId,
      cursor: -1,
      ready: Promise.resolve(),
      org: new Set(),
      byTask: new Map(),
      streams: 0,
      reading: false,
      dirty: false,
      lastReadAt: performance.now(),
    };
    org.ready = this.store
      .read((tx) => tx.eventBounds(orgId))
      .then(
        (bounds) => {
          org.cursor = bounds.lastId;
          if (org.dirty) this.wake(org);
        },
        (err: unknown) => {
          // The next stream of the org starts over.
          if (this.orgs.get(orgId) === org) this.orgs.delete(orgId);
          if (this.orgs.size === 0) this.stopPolling();
          throw err;
        },
      );
    this.orgs.set(orgId, org);
    this.startPolling();
    return org;
  }

  private wake(org: OrgFeed): void {
    if (org.reading || org.cursor < 0) {
      org.dirty = true;
      return;
    }
    void this.read(org);
  }

  /** Read and dispatch until nothing new is known to wait: one reader per org at a time. */
  private async read(org: OrgFeed): Promise<void> {
    org.reading = true;
    try {
      do {
        org.dirty = false;
        const events = await this.store.read((tx) => tx.listEvents(org.orgId, org.cursor, BATCH));
        // The org's last stream left (or the feed closed) during the read: nobody to tell.
        if (this.orgs.get(org.orgId) !== org) return;
        const read = ++this.reads;
        for (const event of events) dispatch(org, event, read);
        const last = events.at(-1);
        if (last !== undefined) org.cursor = last.id;
        org.lastReadAt = performance.now();
        if (events.length === BATCH) org.dirty = true;
      } while (org.dirty);
    } catch (err) {
      // The events are still in the store: the next wake or poll reads them.
      this.opts.onError?.(err);
    } finally {
      org.reading = false;
    }
  }

  /**
   * Every quarter of the interval, the orgs not read for a whole interval are read: an org whose
   * changes come anyway costs no extra reads, and a lost notification waits at most about 1.25
   * intervals.
   */
  private startPolling(): void {
    if (this.poller !== undefined) return;
    this.poller = setInterval(
      () => {
        const stale = performance.now() - this.pollIntervalMs;
        for (const org of this.orgs.values()) if (org.lastReadAt <= stale) this.wake(org);
      },
      Math.max(1, Math.floor(this.pollIntervalMs / 4)),
    );
    this.poller.unref();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }
}

/** Whether `event` is one `filter` selects: the same rule as TaskStore.listEvents. */
export function matches(filter: EventFilter, event: StoredEvent): boolean {
  return (
    (filter.taskId === undefined || filter.taskId === event.taskId) &&
    (filter.types === undefined || filter.types.includes(event.type)) &&
    (filter.taskType === undefined || filter.taskType === event.taskType) &&
    (filter.listId === undefined || filter.listId === event.listId) &&
    (filter.projectId === undefined || filter.projectId === event.projectId)
  );
}

function dispatch(org: OrgFeed, event: StoredEvent, read: number): void {
  for (const sink of org.org) if (matches(sink.filter, event)) push(sink, event, read);
  const ofTask = org.byTask.get(event.taskId);
  if (ofTask !== undefined) for (const sink of ofTask) if (matches(sink.filter, event)) push(sink, event, read);
}

function push(sink: FeedSink, event: StoredEvent, read: number): void {
  try {
    sink.push(event, read);
  } catch {
    // A sink's failure is its own; the others still get the event.
  }
}

function add(org: OrgFeed, sink: FeedSink): void {
  const taskId = sink.filter.taskId;
  let set = org.org;
  if (taskId !== undefined) {
    const existing = org.byTask.get(taskId);
    set = existing ?? new Set();
    if (existing === undefined) org.byTask.set(taskId, set);
  }
  if (set.has(sink)) return;
  set.add(sink);
  org.streams++;
}

function remove(org: OrgFeed, sink: FeedSink): boolean {
  const taskId = sink.filter.taskId;
  const set = taskId === undefined ? org.org : org.byTask.get(taskId);
  if (set === undefined || !set.delete(sink)) return false;
  if (taskId !== undefined && set.size === 0) org.byTask.delete(taskId);
  org.streams--;
  return true;
}
