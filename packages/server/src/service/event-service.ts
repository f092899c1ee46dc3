/**
 * Event streams and pages (SPEC §10): where a client resumes, what it may hold open, and the node's
 * one EventFeed behind every stream. Resuming is by event id only (Last-Event-ID, `after`):
 * - no resume point: an org stream starts at the org's last id (live from now); a task's stream
 *   replays the task's retained history first;
 * - a point below the org's horizon (events after it were reaped) or above its last id (an id never
 *   given) is answered with a reset, and the stream goes on from the last id.
 */
import { TasklaneError } from '../domain/errors.js';
import type { TaskStatus } from '../domain/status.js';
import type {
  EventBounds,
  EventFilter,
  EventType,
  StoredEvent,
  StoreReader,
  TaskStore,
} from '../storage/task-store.js';
import { EventFeed } from './event-feed.js';
import { EventStream, type StreamOutput, type StreamReset } from './event-stream.js';
import { UUID_PATTERN } from './ids.js';
import type { Principal } from './principal.js';
import { findTask } from './task-lookup.js';

export interface EventServiceOptions {
  /** How often orgs with open streams are read without a change (default 1000 ms). */
  pollIntervalMs?: number;
  /** Open streams one key may hold on this node (default 1,000). */
  maxStreamsPerKey?: number;
  /** Bytes a slow client may hold unread before its stream ends (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Told when the feed cannot read, or a stream's replay fails (storage down). */
  onError?: (err: unknown) => void;
}

/** What a client asks for: one task's events, or the org's through filters; where to resume. */
export interface EventQuery {
  /** A task's id or identifier (OPS-42): that task's events only. */
  task?: string;
  types?: readonly EventType[];
  taskType?: string;
  listId?: string;
  /** A project's id or key. */
  projectId?: string;
  /** Resume after this event id (Last-Event-ID or `after`). */
  after?: number;
}

export interface EventPage {
  items: StoredEvent[];
  /** The last item's id, else the resume point; the last id after a reset. */
  nextAfter: number;
  reset: StreamReset | null;
}

const DEFAULT_MAX_STREAMS_PER_KEY = 1000;
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Where a query starts, read in one snapshot. */
interface Start {
  filter: EventFilter;
  bounds: EventBounds;
  /** The first id not to send: the resume point, the last id (live), or the horizon (a task's history). */
  position: number;
  reset: StreamReset | null;
  /** A task query's task id and its status as of bounds.lastId. */
  task: { id: string; status: TaskStatus } | null;
}

export class EventService {
  private readonly feed: EventFeed;
  private readonly streams = new Set<EventStream>();
  private readonly perKey = new Map<string, number>();
  private readonly maxStreamsPerKey: number;
  private readonly maxQueuedBytes: number;
  private readonly onError: ((err: unknown) => void) | undefined;

  constructor(
    private readonly store: TaskStore,
    opts: EventServiceOptions = {},
  ) {
    this.feed = new EventFeed(store, {
      ...(opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: opts.pollIntervalMs }),
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    });
    this.maxStreamsPerKey = opts.maxStreamsPerKey ?? DEFAULT_MAX_STREAMS_PER_KEY;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.onError = opts.onError;
  }

  /** Streams open on this node right now (a gauge). */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Open a stream: checks what a stream needs (the task exists, the key may open one more), registers
   * it with the feed, and returns it, not started: the caller starts its response, then `run()`s it.
   * Nothing is written to `output` before `run()`.
   */
  async open(principal: Principal, query: EventQuery, output: StreamOutput): Promise<EventStream> {
    const held = this.perKey.get(principal.keyId) ?? 0;
    if (held >= this.maxStreamsPerKey) {
      throw new TasklaneError(
        'TOO_MANY_STREAMS',
        `This key holds ${held} open event streams on this node, the most it may; close one first.`,
      );
    }
    // Counted from now, so that concurrent opens cannot all pass the check.
    this.perKey.set(principal.keyId, held + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (this.perKey.get(principal.keyId) ?? 1) - 1;
      if (n > 0) this.perKey.set(principal.keyId, n);
      else this.perKey.delete(principal.keyId);
    };
    try {
      const orgId = principal.orgId;
      const start = await this.store.read((tx) => this.start(tx, orgId, query));
      const stream = new EventStream({
        orgId,
        filter: start.filter,
        output,
        source: this.source(orgId, start.filter, start.task?.id ?? null),
        position: start.position,
        reset: start.reset,
        announce: start.task === null && query.after === undefined,
        task: start.task === null ? null : { status: start.task.status, statusAt: start.bounds.lastId },
        maxQueuedBytes: this.maxQueuedBytes,
        onEnd: (s) => {
          this.streams.delete(s);
          this.feed.unregister(s);
          release();
        },
        ...(this.onError === undefined ? {} : { onError: this.onError }),
      });
      const cursor = await this.feed.register(stream);
      stream.replayThrough(cursor, start.bounds.lastId);
      this.streams.add(stream);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }

  /** One page of events (the JSON form of a stream): from the resume point, at most `limit`. */
  page(orgId: string, query: EventQuery, limit: number): Promise<EventPage> {
    return this.store.read(async (tx) => {
      const start = await this.start(tx, orgId, query);
      if (start.reset !== null) return { items: [], nextAfter: start.bounds.lastId, reset: start.reset };
      const items = await tx.listEvents(orgId, start.position, limit, start.filter);
      return { items, nextAfter: items.at(-1)?.id ?? start.position, reset: null };
    });
  }

  /** Ends every open stream (the server is stopping); the feed stays ready for new ones. */
  endAll(): void {
    for (const s of [...this.streams]) s.end('shutdown');
  }

  /** Ends every stream and stops listening for changes. */
  close(): void {
    this.endAll();
    this.feed.close();
  }

  private async start(tx: StoreReader, orgId: string, query: EventQuery): Promise<Start> {
    const task = query.task === undefined ? null : await findTask(tx, orgId, query.task);
    const filter: EventFilter =
      task !== null
        ? { taskId: task.id }
        : {
            ...(query.types === undefined ? {} : { types: query.types }),
            ...(query.taskType === undefined ? {} : { taskType: query.taskType }),
            ...(query.listId === undefined ? {} : { listId: query.listId }),
            ...(query.projectId === undefined ? {} : { projectId: await projectIdOf(tx, orgId, query.projectId) }),
          };
    const bounds = await tx.eventBounds(orgId);
    const taskState = task === null ? null : { id: task.id, status: task.status };
    const after = query.after;
    if (after === undefined) {
      return { filter, bounds, position: task === null ? bounds.lastId : bounds.horizon, reset: null, task: taskState };
    }
    const reason = after < bounds.horizon ? 'expired' : after > bounds.lastId ? ('unknown' as const) : null;
    const reset: StreamReset | null = reason === null ? null : { reason, after, lastId: bounds.lastId };
    return { filter, bounds, position: reset === null ? after : bounds.lastId, reset, task: taskState };
  }

  /** What a stream replays from: its filter's events and the org's bounds, one snapshot a page. */
  private source(orgId: string, filter: EventFilter, taskId: string | null) {
    return {
      page: (afterId: number, limit: number) =>
        this.store.read(async (tx) => {
          const bounds = await tx.eventBounds(orgId);
          return { bounds, events: await tx.listEvents(orgId, afterId, limit, filter) };
        }),
      taskStatus: () =>
        this.store.read(async (tx) => {
          const bounds = await tx.eventBounds(orgId);
          const task = taskId === null ? null : await tx.getTask(orgId, taskId);
          return { bounds, status: task?.status ?? null };
        }),
    };
  }
}

/**
 * A project named by its key is filtered by its id; an unknown key keeps the key, which no event
 * carries (ids are UUIDs), so the filter matches nothing, as for an unknown id.
 */
async function projectIdOf(tx: StoreReader, orgId: string, ref: string): Promise<string> {
  if (UUID_PATTERN.test(ref)) return ref.toLowerCase();
  return (await tx.getProjectByKey(orgId, ref))?.id ?? ref;
}
