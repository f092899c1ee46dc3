/**
 * Server-Sent Events over fetch: the browser's EventSource cannot send the Authorization header, so
 * the stream is read with fetch and parsed with eventsource-parser. After a drop it reconnects with
 * backoff and `Last-Event-ID`, so nothing is missed; while the tab is hidden it pauses, and resumes
 * from the last event id when the tab is shown again. An answer that a retry would only repeat (401,
 * 403, 404: a key revoked, a task deleted meanwhile) leaves the view without live updates, with no
 * retry loop.
 */
import { createParser } from 'eventsource-parser';
import { parseTaskEvent, type TaskEvent } from './events.js';

export type StreamState =
  /** Opening the connection. */
  | 'connecting'
  /** Events arrive as they happen. */
  | 'live'
  /** Closed while the tab is hidden; resumes when it is shown. */
  | 'paused'
  /** The connection dropped; trying again after a pause. */
  | 'retrying'
  /** The server refused the stream for good (401, 403, 404): no live updates. */
  | 'unavailable'
  /** The server ended the stream for good (a task stream, once its task is done). */
  | 'ended';

export interface EventStreamOptions {
  /** Path and query, e.g. `/v1/events?type=task.progress`. */
  path: string;
  key: string;
  onEvent: (event: TaskEvent) => void;
  /** The resume point was too old or unknown: the view must reload, then events go on live. */
  onReset?: (reason: string) => void;
  /**
   * The stream is open. `resumed` is false when it started at "now" rather than after the last
   * event seen (the first connection, or a reconnection before any event): events may have been
   * missed, so the view should refresh quietly.
   */
  onOpen?: (resumed: boolean) => void;
  onState?: (state: StreamState) => void;
  /** When the server ends the stream cleanly: reconnect (true, the default) or stay ended. */
  reconnectOnEnd?: () => boolean;
  /** Resume after this event id from the start (a task's history already shown). */
  after?: number;
  fetch?: typeof fetch;
  /** Timers, replaceable in tests. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Tab visibility; without it (tests, old browsers) the stream never pauses. */
  visibility?: { hidden: () => boolean; subscribe: (fn: () => void) => () => void };
  /** Uniform in [0, 1), for the backoff's jitter. */
  random?: () => number;
}

export interface EventStream {
  close(): void;
  /** The last event id seen, if any. */
  lastEventId(): string | null;
}

/** Keep-alive comments come every 15 s: this long without a byte means the connection is dead. */
export const STALL_MS = 45_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export function openEventStream(opts: EventStreamOptions): EventStream {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const random = opts.random ?? Math.random;
  let lastId: string | null = opts.after === undefined ? null : String(opts.after);
  let failures = 0;
  let retryHintMs: number | null = null;
  let controller: AbortController | null = null;
  let retryTimer: unknown = null;
  let closed = false;
  let state: StreamState | null = null;

  const setState = (s: StreamState) => {
    if (s === state) return;
    state = s;
    opts.onState?.(s);
  };

  const scheduleRetry = () => {
    if (closed) return;
    failures += 1;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
    // Full jitter, never below the server's own `retry:` hint: many tabs do not come back at once.
    const delay = Math.max(retryHintMs ?? 0, Math.round(ceiling * random()));
    setState('retrying');
    retryTimer = setTimer(() => {
      retryTimer = null;
      void connect();
    }, delay);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    if (opts.visibility?.hidden()) {
      setState('paused');
      return;
    }
    const ctl = new AbortController();
    controller = ctl;
    setState('connecting');
    const headers: Record<string, string> = { authorization: `Bearer ${opts.key}`, accept: 'text/event-stream' };
    if (lastId !== null) headers['last-event-id'] = lastId;
    let res: Response;
    try {
      res = await doFetch(opts.path, { headers, signal: ctl.signal, cache: 'no-store' });
    } catch {
      if (!ctl.signal.aborted) scheduleRetry();
      return;
    }
    if (res.status === 404 || res.status === 405 || res.status === 501 || res.status === 401 || res.status === 403) {
      // No such stream here, or not for this key: retrying would only repeat the answer.
      void res.body?.cancel().catch(() => undefined);
      setState('unavailable');
      return;
    }
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || res.body === null || !type.startsWith('text/event-stream')) {
      void res.body?.cancel().catch(() => undefined);
      scheduleRetry();
      return;
    }
    setState('live');
    opts.onOpen?.(lastId !== null);

    // The backoff starts over once the stream has delivered something (an event or a keep-alive),
    // not merely on a 200: a server that accepts and closes at once is not retried in a tight loop.
    const parser = createParser({
      onComment() {
        failures = 0;
      },
      onEvent(message) {
        failures = 0;
        if (message.id !== undefined && message.id !== '') lastId = message.id;
        if (message.event === 'reset') {
          opts.onReset?.(reasonOf(message.data));
          return;
        }
        const event = parseTaskEvent(message.data);
        if (event !== null) opts.onEvent(event);
      },
      onRetry(ms) {
        retryHintMs = ms;
      },
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let stall: unknown = null;
    const armStall = () => {
      if (stall !== null) clearTimer(stall);
      stall = setTimer(() => ctl.abort(), STALL_MS);
    };
    armStall();
    let ended = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        armStall();
        parser.feed(value);
      }
    } catch {
      // A drop (network, server restart) or our own abort: told apart below.
    } finally {
      if (stall !== null) clearTimer(stall);
    }
    if (closed || controller !== ctl) return;
    if (ctl.signal.aborted && opts.visibility?.hidden()) {
      setState('paused');
      return;
    }
    if (ended && opts.reconnectOnEnd !== undefined && !opts.reconnectOnEnd()) {
      setState('ended');
      return;
    }
    scheduleRetry();
  }

  const unsubscribe = opts.visibility?.subscribe(() => {
    if (closed) return;
    if (opts.visibility?.hidden()) {
      if (retryTimer !== null) {
        clearTimer(retryTimer);
        retryTimer = null;
      }
      if (state === 'unavailable' || state === 'ended') return;
      setState('paused');
      controller?.abort();
    } else if (state === 'paused') {
      failures = 0;
      void connect();
    }
  });

  void connect();

  return {
    close() {
      closed = true;
      unsubscribe?.();
      if (retryTimer !== null) clearTimer(retryTimer);
      controller?.abort();
    },
    lastEventId: () => lastId,
  };
}

function reasonOf(data: string): string {
  try {
    const v = JSON.parse(data) as { reason?: unknown };
    return typeof v.reason === 'string' ? v.reason : 'reset';
  } catch {
    return 'reset';
  }
}

/** The page's visibility, for `visibility`. */
export const documentVisibility = {
  hidden: () => document.visibilityState === 'hidden',
  subscribe: (fn: () => void) => {
    document.addEventListener('visibilitychange', fn);
    return () => document.removeEventListener('visibilitychange', fn);
  },
};
