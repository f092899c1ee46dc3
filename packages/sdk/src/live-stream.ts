/**
 * Following an event stream (SPEC §10, docs/events.md) as an async iterator that resumes by itself:
 * each connection is read with `eventsource-parser`, every event's id is kept, and when the
 * connection drops (a network break, a node stopping, a stream cut for falling behind, no byte for
 * `idleTimeoutMs`) the stream is opened again with `Last-Event-ID` after a bounded backoff, so the
 * caller sees every event once and in order. A `reset` frame (the resume point was reaped, or never
 * given) comes through as a typed item: the caller reloads what it shows.
 */
import { EventSourceParserStream, ParseError, type EventSourceMessage } from 'eventsource-parser/stream';
import { TasklaneApiError, TasklaneConnectionError } from './errors.js';
import type { EventReset, TaskEvent } from './schemas/index.js';

/** The stream could not resume where asked: reload, then apply the events that follow. */
export interface StreamResetItem {
  type: 'reset';
  data: EventReset;
}

/** What a live stream yields: an event, or a reset. */
export type StreamItem = TaskEvent | StreamResetItem;

export interface ReconnectOptions {
  /** The first wait before reconnecting, then doubled per failure in a row (default 1000 ms). */
  initialDelayMs?: number;
  /** The longest wait between attempts (default 15,000 ms). */
  maxDelayMs?: number;
  /** A connection that brings no byte for this long is dropped and resumed (default 45 s: 3 keepalives). */
  idleTimeoutMs?: number;
  /**
   * Told before each wait to reconnect: the failures in a row, the wait, and why (the error, or null
   * when the server ended the stream cleanly: a node stopping).
   */
  onReconnect?: (info: { attempt: number; delayMs: number; cause: unknown }) => void;
}

export interface LiveStreamOptions extends ReconnectOptions {
  /** Ends the iteration (quietly) and closes the connection. */
  signal?: AbortSignal;
}

/** Opens one connection, resuming after `lastEventId` when given. */
export type OpenConnection = (
  lastEventId: number | undefined,
  signal: AbortSignal,
) => Promise<ReadableStream<Uint8Array>>;

export interface FollowInit {
  open: OpenConnection;
  /** Resume after this id; undefined: as the route does without one. */
  after: number | undefined;
  options: LiveStreamOptions;
  /**
   * The server ended the stream cleanly: true to stop (a task's stream, the task terminal), false
   * to resume (a node stopping). Without it: resume.
   */
  endedCleanly?: () => Promise<boolean>;
}

const DEFAULT_INITIAL_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 15_000;
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** One frame larger than this is a broken stream, not an event (the server caps steps and results well below). */
const MAX_FRAME_CHARS = 16 * 1024 * 1024;

/**
 * The items of a stream, across as many connections as it takes. Throws what cannot be cured by
 * reconnecting: a 4xx answer (bad filter, unknown task, revoked key; 429 is waited out), or a
 * connection failure before the first connection was ever opened (a wrong URL). Ends when the
 * signal aborts, or when `endedCleanly` says so.
 */
export async function* follow(init: FollowInit): AsyncGenerator<StreamItem, void, undefined> {
  const { options } = init;
  const signal = options.signal;
  const maxDelay = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let initialDelay = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  let lastId = init.after;
  let opened = false;
  let failures = 0;
  const aborted = () => signal?.aborted === true;
  while (!aborted()) {
    let wait = 0;
    let cause: unknown = null;
    const connection = new AbortController();
    const cancel = () => connection.abort(signal?.reason);
    signal?.addEventListener('abort', cancel, { once: true });
    const broken: { by: TasklaneApiError | null } = { by: null };
    let frames: ReadableStreamDefaultReader<EventSourceMessage> | undefined;
    try {
      const body = await init.open(lastId, connection.signal);
      opened = true;
      const idle = idleWatch(idleMs, connection);
      frames = body
        .pipeThrough(idle.decode)
        .pipeThrough(
          new EventSourceParserStream({
            maxBufferSize: MAX_FRAME_CHARS,
            // Unknown fields are ignored, as an EventSource does; a frame past the cap ends it all,
            // since resuming would only read the same frame again.
            onError: (err) => {
              if (!(err instanceof ParseError) || err.type !== 'max-buffer-size-exceeded') return;
              broken.by = invalid(`an event stream frame of more than ${MAX_FRAME_CHARS} characters`);
              connection.abort(broken.by);
            },
            // The server's `retry:` (2 s) unless the caller chose its own.
            onRetry: (ms) => {
              if (options.initialDelayMs === undefined) initialDelay = ms;
            },
          }),
        )
        .getReader();
      for (let r = await frames.read(); !r.done; r = await frames.read()) {
        failures = 0;
        const frame = r.value;
        if (frame.event === 'reset') {
          const data = JSON.parse(frame.data) as EventReset;
          lastId = data.lastId;
          idle.hold();
          yield { type: 'reset', data };
          idle.release();
          continue;
        }
        const event = JSON.parse(frame.data) as TaskEvent;
        // The server sends each id once across resumes; kept so here too, whatever sits between.
        if (lastId !== undefined && event.id <= lastId) continue;
        lastId = event.id;
        idle.hold();
        yield event;
        idle.release();
      }
      if (aborted()) return;
      if ((await init.endedCleanly?.()) === true) return;
    } catch (err) {
      if (aborted()) return;
      if (broken.by !== null) throw broken.by;
      if (err instanceof SyntaxError) throw invalid(`an event that is not JSON (${err.message})`);
      wait = retryAfterMs(err, opened);
      cause = err;
    } finally {
      signal?.removeEventListener('abort', cancel);
      connection.abort();
      frames?.cancel().catch(() => undefined);
    }
    failures++;
    const backoff = Math.min(maxDelay, initialDelay * 2 ** Math.min(failures - 1, 16));
    // Jitter, so that many clients cut at once by one node stopping do not come back at once.
    const delayMs = Math.round(Math.max(wait, backoff * (0.5 + Math.random() / 2)));
    options.onReconnect?.({ attempt: failures, delayMs, cause });
    await delay(delayMs, signal);
  }
}

/** How long to wait before trying again after `err`; throws it when trying again cannot help. */
function retryAfterMs(err: unknown, opened: boolean): number {
  if (err instanceof TasklaneApiError) {
    const transient = err.status === 429 || err.status === 408 || err.status >= 500;
    if (!transient) throw err;
    return (err.retryAfter ?? 0) * 1000;
  }
  // Never reached the server: a wrong URL says so now rather than retrying for ever.
  if (err instanceof TasklaneConnectionError && !opened) throw err;
  // A connection broken mid-stream, an idle one dropped, a body cut short: resume.
  return 0;
}

function invalid(what: string): TasklaneApiError {
  return new TasklaneApiError({
    status: 200,
    code: 'INVALID_RESPONSE',
    detail: `The server sent ${what}.`,
    requestId: null,
    retryAfter: null,
    problem: null,
  });
}

/**
 * Decodes the bytes as UTF-8 text, and aborts `connection` when no byte comes for `ms` while the
 * caller waits for one: the time the caller spends on an item (`hold` to `release`) does not count.
 */
function idleWatch(ms: number, connection: AbortController) {
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let held = false;
  const arm = () => {
    clearTimeout(timer);
    if (held || connection.signal.aborted) return;
    timer = setTimeout(() => connection.abort(new DOMException(`no byte for ${ms} ms`, 'TimeoutError')), ms);
  };
  connection.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  const decode = new TransformStream<Uint8Array, string>({
    start: arm,
    transform(chunk, controller) {
      arm();
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') controller.enqueue(text);
    },
    flush(controller) {
      clearTimeout(timer);
      const rest = decoder.decode();
      if (rest !== '') controller.enqueue(rest);
    },
  });
  return {
    decode,
    hold() {
      held = true;
      clearTimeout(timer);
    },
    release() {
      held = false;
      arm();
    },
  };
}

/** Waits `ms`, or less if `signal` aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
