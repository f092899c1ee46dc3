/**
 * One open event stream: the events of an org (filtered) or of one task, replayed from the store
 * from a resume point, then live from the node's EventFeed, with no gap and no duplicate at the
 * switch. Transport-free: it writes through a StreamOutput (SSE in http/sse-response.ts).
 *
 * The switch, step by step (EventService.open, then run):
 * 1. The stream registers with the feed, which answers its cursor C. From then on the feed pushes
 *    every matching event above C; while the stream replays, they wait in `pending`.
 * 2. The stream replays from the store, after its resume point, every matching event up to
 *    `until` = max(C, the org's last id when it opened), in pages, waiting for the client to take
 *    each before reading the next.
 * 3. It sends what waits in `pending`, skipping the ids it has sent already, and is live: the feed's
 *    pushes go straight out, in id order.
 * Every event goes out once and in id order because every step keeps `position`, the last id sent,
 * and nothing at or below it is sent again.
 *
 * Back-pressure: a push never waits. What the stream holds for a slow client (bytes written and not
 * yet taken, plus `pending`) is capped: when a feed read begins with the client holding more than
 * the cap, the stream ends ('behind'), and the client resumes from the last id it got. Replay
 * reads a page only once the output has drained.
 */
import { isTerminal, STATUSES, type TaskStatus } from '../domain/status.js';
import type { EventBounds, EventFilter, StoredEvent } from '../storage/task-store.js';
import type { FeedSink } from './event-feed.js';

/** Why a stream could not resume where the client asked (the `reset` frame). */
export interface StreamReset {
  reason: 'expired' | 'unknown';
  /** The resume point asked for. */
  after: number;
  /** Where the stream goes on from: the org's last event id. */
  lastId: number;
}

/**
 * Why a stream ended: its task is terminal (`done`) or deleted, the client fell too far behind,
 * the server is stopping, the client left, or storage failed during replay.
 */
export type EndReason = 'done' | 'deleted' | 'behind' | 'shutdown' | 'gone' | 'failed';

/** Where a stream's frames go. None of these may block. */
export interface StreamOutput {
  event(event: StoredEvent): void;
  reset(reset: StreamReset): void;
  /** Tells the client its resume point without an event (SSE: an `id:` line and no data). */
  position(id: number): void;
  /** Bytes `event` takes on the wire (what `pending` holds is counted in these). */
  sizeOf(event: StoredEvent): number;
  /** Bytes written and not yet taken by the client. */
  readonly queued: number;
  /** Resolves once what was written has gone out (or the output closed). */
  drained(): Promise<void>;
  end(reason: EndReason): void;
}

/** What the stream reads, in one snapshot per call (EventService). */
export interface ReplaySource {
  /** Matching events after `afterId` (at most `limit`), with the org's bounds in the same snapshot. */
  page(afterId: number, limit: number): Promise<{ events: StoredEvent[]; bounds: EventBounds }>;
  /** A task stream's task status as of the bounds' lastId, read with them; null: the task is gone. */
  taskStatus(): Promise<{ status: TaskStatus | null; bounds: EventBounds }>;
}

export interface EventStreamInit {
  orgId: string;
  filter: EventFilter;
  output: StreamOutput;
  source: ReplaySource;
  /** The first id not to send again: the resume point, or the start of live. */
  position: number;
  /** Sent first when the resume point could not be honoured. */
  reset: StreamReset | null;
  /**
   * Tell the client `position` first (an org stream live from now): a client that drops before any
   * event comes then resumes from there and misses nothing committed after it opened.
   */
  announce?: boolean;
  /** A task's stream: the task's status as of `statusAt` (an event id). */
  task: { status: TaskStatus; statusAt: number } | null;
  /** Bytes a slow client may hold (written and not taken, plus pending) before the stream ends. */
  maxQueuedBytes: number;
  /** Called once, when the stream ends. */
  onEnd: (stream: EventStream) => void;
  /** Told why a replay failed (the stream then ends: 'failed'). */
  onError?: (err: unknown) => void;
}

/** Events read from the store per replay page. */
const REPLAY_PAGE = 200;
/** Replay writes on while the output holds less than this; beyond, it waits for the client. */
const REPLAY_HIGH_WATER = 64 * 1024;

export class EventStream implements FeedSink {
  readonly orgId: string;
  readonly filter: EventFilter;
  private readonly output: StreamOutput;
  private readonly source: ReplaySource;
  private readonly maxQueuedBytes: number;
  private readonly onEnd: (stream: EventStream) => void;
  private readonly onError: ((err: unknown) => void) | undefined;
  private reset: StreamReset | null;
  private readonly announce: boolean;
  private task: { status: TaskStatus; statusAt: number } | null;
  /** The last id sent, or the resume point before the first. */
  private position: number;
  /** Replay goes up to here: set by EventService.open once the feed told its cursor. */
  private until = 0;
  private live = false;
  private pending: StoredEvent[] = [];
  private pendingBytes = 0;
  private closeCheck = false;
  /** What the client held unread when the feed's read `measuredRead` began (behind()). */
  private heldBefore = 0;
  private measuredRead = -1;
  private ended: EndReason | null = null;

  constructor(init: EventStreamInit) {
    this.orgId = init.orgId;
    this.filter = init.filter;
    this.output = init.output;
    this.source = init.source;
    this.position = init.position;
    this.reset = init.reset;
    this.announce = init.announce === true;
    this.task = init.task;
    this.maxQueuedBytes = init.maxQueuedBytes;
    this.onEnd = init.onEnd;
    this.onError = init.onError;
  }

  get endReason(): EndReason | null {
    return this.ended;
  }

  /** The feed's cursor when the stream registered, and the org's last id when it opened. */
  replayThrough(cursor: number, lastId: number): void {
    this.until = Math.max(cursor, lastId);
  }

  /** The feed's push: straight out when live, else kept for after the replay. */
  push(event: StoredEvent, read: number): void {
    if (this.ended !== null) return;
    if (this.behind(read)) return this.end('behind');
    if (this.live) {
      if (event.id > this.position) this.send(event);
      return;
    }
    this.pending.push(event);
    this.pendingBytes += this.output.sizeOf(event);
  }

  /**
   * Whether the client still holds more than the cap from before the feed's current read: what it
   * had time to take and did not. The read's own events do not count (one read may carry
   * megabytes of steps, which a client that reads takes at once), so what a stalled client costs
   * is bounded by the cap plus one read.
   */
  private behind(read: number): boolean {
    if (read !== this.measuredRead) {
      this.measuredRead = read;
      this.heldBefore = this.output.queued + this.pendingBytes;
    }
    return this.heldBefore > this.maxQueuedBytes;
  }

  /** Sends the reset (if any), replays, then goes live. Never rejects: a failure ends the stream. */
  async run(): Promise<void> {
    try {
      if (this.reset !== null) this.output.reset(this.reset);
      else if (this.announce) this.output.position(this.position);
      await this.replay();
      if (this.ended !== null) return;
      const pending = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      for (const event of pending) if (event.id > this.position) this.send(event);
      this.live = true;
      this.checkTask();
    } catch (err) {
      // Storage failed mid-replay: the client resumes from the last id it got.
      this.onError?.(err);
      this.end('failed');
    }
  }

  end(reason: EndReason): void {
    if (this.ended !== null) return;
    this.ended = reason;
    this.pending = [];
    this.onEnd(this);
    this.output.end(reason);
  }

  private async replay(): Promise<void> {
    // Live from now (an org stream without a resume point): nothing to read.
    if (this.position >= this.until) return;
    for (;;) {
      const { events, bounds } = await this.source.page(this.position, REPLAY_PAGE);
      if (this.ended !== null) return;
      if (bounds.horizon > this.position) {
        // The reaper deleted events after the position while the stream replayed.
        await this.resetTo({ reason: 'expired', after: this.position, lastId: bounds.lastId });
        if (this.ended !== null) return;
        continue;
      }
      for (const event of events) {
        if (event.id > this.until) return;
        this.send(event);
        if (this.output.queued > REPLAY_HIGH_WATER) await this.output.drained();
        if (this.ended !== null) return;
      }
      if (events.length < REPLAY_PAGE) return;
    }
  }

  /** Goes on from a later point, the client told so; a task stream learns its task's status there. */
  private async resetTo(reset: StreamReset): Promise<void> {
    let lastId = reset.lastId;
    if (this.task !== null) {
      const { status, bounds } = await this.source.taskStatus();
      if (status === null) return this.end('deleted');
      lastId = bounds.lastId;
      this.task = { status, statusAt: lastId };
    }
    this.output.reset({ ...reset, lastId });
    this.position = lastId;
    this.until = Math.max(this.until, lastId);
  }

  private send(event: StoredEvent): void {
    this.output.event(event);
    this.position = event.id;
    const task = this.task;
    if (task === null) return;
    if (event.type === 'task.deleted') {
      this.closeCheck = true;
      queueMicrotask(() => this.end('deleted'));
      return;
    }
    if (event.id > task.statusAt) {
      const status = statusAfter(event);
      if (status !== null) task.status = status;
    }
    // Decided once the feed has dispatched its whole read (a retry may follow a failure in it).
    if (this.live && !this.closeCheck) {
      this.closeCheck = true;
      queueMicrotask(() => {
        this.closeCheck = false;
        this.checkTask();
      });
    }
  }

  /** A task stream ends once its task is terminal and every event up to now went out. */
  private checkTask(): void {
    if (this.ended === null && this.task !== null && isTerminal(this.task.status)) this.end('done');
  }
}

/** The task's status once `event` happened, when the event says (created, status_changed). */
function statusAfter(event: StoredEvent): TaskStatus | null {
  const data = event.data as { status?: unknown; to?: unknown } | null;
  const status = event.type === 'task.created' ? data?.status : event.type === 'task.status_changed' ? data?.to : null;
  return typeof status === 'string' && (STATUSES as readonly string[]).includes(status) ? (status as TaskStatus) : null;
}
