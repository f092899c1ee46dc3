/**
 * A small Server-Sent Events reader for tests, on node:http (one connection per stream, no agent):
 * it parses frames as they arrive (the SSE rules Tasklane's streams use: `field: value` lines, a
 * blank line ends a frame, `:` starts a comment), keeps them all, and lets a test wait for a
 * condition on them with a deadline. `pause()` stops reading from the socket (a stalled client).
 * Also: a server on a real port for the streams (the HTTP harness, listening on port 0).
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { makeHarness, type Harness, type HarnessOptions } from './http-harness.js';

export interface Frame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  /** The text of a comment line (without the colon and one space), for a comment frame. */
  comment?: string;
  /** When its last line arrived: epoch ms, fractional (performance.timeOrigin + performance.now()). */
  at: number;
}

/** A task event as the stream sends it (TaskEvent). */
export interface WireEvent {
  id: number;
  type: string;
  taskId: string;
  time: string;
  data: Record<string, unknown>;
}

export interface OpenOptions {
  key: string;
  lastEventId?: string;
  headers?: Record<string, string>;
}

export class SseClient {
  readonly frames: Frame[] = [];
  /** Set when the response ended or the connection broke. */
  ended = false;
  endedBy: 'end' | 'error' | 'close' | null = null;
  private buffer = '';
  private current: Omit<Frame, 'at'> = {};
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    res.once('end', () => this.finish('end'));
    res.once('error', () => this.finish('error'));
    res.once('close', () => this.finish('close'));
  }

  /** Opens a stream; resolves with the answer's head (any status: a problem body is kept as `body`). */
  static open(url: string, opts: OpenOptions): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          agent: false,
          headers: {
            authorization: `Bearer ${opts.key}`,
            accept: 'text/event-stream',
            ...(opts.lastEventId === undefined ? {} : { 'last-event-id': opts.lastEventId }),
            ...opts.headers,
          },
        },
        (res) => resolve(new SseClient(res.statusCode ?? 0, res.headers, res)),
      );
      req.once('error', reject);
      req.end();
    });
  }

  /** The task events received, in order (data parsed). */
  get events(): WireEvent[] {
    return this.frames
      .filter((f) => f.data !== undefined && f.event !== 'reset')
      .map((f) => JSON.parse(f.data ?? '') as WireEvent);
  }

  get ids(): number[] {
    return this.events.map((e) => e.id);
  }

  /** The last `id:` received (what an EventSource would send as Last-Event-ID). */
  get lastId(): string | undefined {
    return this.frames.filter((f) => f.id !== undefined).at(-1)?.id;
  }

  /** The raw text of the body, for an answer that is not a stream (not 200). */
  get body(): string {
    return this.raw;
  }
  private raw = '';

  /** Resolves when `check` holds on what came so far; rejects after `timeoutMs`. */
  async until(check: (c: SseClient) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${this.frames.length} frames, last ${JSON.stringify(this.frames.at(-1))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Waits until the stream has ended (the server ended it, or the connection broke). */
  untilEnded(timeoutMs = 10_000): Promise<void> {
    return this.until((c) => c.ended, 'the end of the stream', timeoutMs);
  }

  /** Stops reading: the socket's receive window fills, and the server's writes queue up. */
  pause(): void {
    this.res.pause();
  }

  /** Reads again after pause(). */
  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.res.destroy();
  }

  private feed(chunk: string): void {
    // A stream's body can be megabytes: kept whole only for an answer that is not a stream.
    if (this.status !== 200) this.raw += chunk;
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      if (Object.keys(this.current).length > 0) this.frames.push({ ...this.current, at: now() });
      this.current = {};
      return;
    }
    if (line.startsWith(':')) {
      this.frames.push({ comment: line.slice(1).replace(/^ /, ''), at: now() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id' || field === 'event' || field === 'retry') this.current[field] = value;
    else if (field === 'data')
      this.current.data = this.current.data === undefined ? value : `${this.current.data}\n${value}`;
  }

  private finish(how: 'end' | 'error' | 'close'): void {
    if (this.ended) return;
    this.ended = true;
    this.endedBy = how;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

const now = (): number => performance.timeOrigin + performance.now();

export interface StreamServer extends Harness {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Opens `path` on this server. */
  open(path: string, opts: OpenOptions): Promise<SseClient>;
}

/** The HTTP harness (SQLite, or the store given), listening on a free port. */
export async function streamServer(opts: HarnessOptions = {}): Promise<StreamServer> {
  const h = await makeHarness(opts);
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const clients: SseClient[] = [];
  return {
    ...h,
    url,
    async open(path, o) {
      const c = await SseClient.open(url + path, o);
      clients.push(c);
      return c;
    },
    async cleanup() {
      for (const c of clients) c.close();
      await h.cleanup();
    },
  };
}
