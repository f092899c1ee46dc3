/**
 * The org's events (SPEC §10, docs/events.md): followed live as an async iterator that resumes by
 * itself (live-stream.ts), or read a page at a time (`Accept: application/json`).
 */
import { follow, type LiveStreamOptions, type StreamItem } from '../live-stream.js';
import type { StreamRequester } from '../request.js';
import type { EventPage, EventsParams } from '../schemas/index.js';

/** What the org stream is filtered by: every filter given must match. */
export type EventFilters = Omit<EventsParams, 'after' | 'limit'>;

export interface EventStreamOptions extends LiveStreamOptions {
  /** Resume after this event id; without it the stream starts at the org's last event (live from now). */
  after?: number;
}

export class EventsResource {
  constructor(private readonly client: StreamRequester) {}

  /**
   * The org's events that match `filters`, in id order, each once, until `signal` aborts (then the
   * loop ends quietly). Connection breaks are cured by resuming after the last id; a `reset` item
   * says the resume point was lost (older than retention): reload, then go on with what follows.
   * Throws on a 4xx answer (a bad filter, a revoked key), or when the server cannot be reached at first.
   */
  async *stream(
    filters: EventFilters = {},
    opts: EventStreamOptions = {},
  ): AsyncGenerator<StreamItem, void, undefined> {
    const path = '/v1/events';
    // Without a resume point, learn the org's last id first (a page asks no stream): a connection
    // that drops before its first event then resumes from it rather than from "now" again.
    let after = opts.after;
    try {
      after ??= (await this.page({ ...filters, limit: 1 }, opts.signal)).nextAfter;
    } catch (err) {
      if (opts.signal?.aborted === true) return; // aborted: the loop ends quietly, as below
      throw err;
    }
    yield* follow({
      open: (lastEventId, signal) =>
        this.client.openStream(path, { query: filters, signal, ...(lastEventId === undefined ? {} : { lastEventId }) }),
      after,
      options: opts,
    });
  }

  /**
   * One page of events after `params.after`, oldest first (`limit` 1-1000, default 100). Pass
   * `nextAfter` as `after` for the next. Without `after`: no items, and the org's last id to poll from.
   */
  async page(params: EventsParams = {}, signal?: AbortSignal): Promise<EventPage> {
    return (await this.client.request<EventPage>('GET', '/v1/events', { query: params, ...(signal ? { signal } : {}) }))
      .body;
  }
}
