/**
 * An event stream's output as Server-Sent Events on a Node response: the head and the `retry:` line,
 * one frame per event, a `: keepalive` comment while the connection is idle, and the end. It never
 * waits on the socket: writes are buffered by Node, and `queued` (res.writableLength) is what the
 * stream measures a slow client by.
 */
import type { ServerResponse } from 'node:http';
import type { StoredEvent } from '../storage/task-store.js';
import type { EndReason, EventStream, StreamOutput, StreamReset } from '../service/event-stream.js';
import { eventFrame, eventFrameBytes, positionFrame, resetFrame, RETRY_MS } from './event-frames.js';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx would otherwise hold the frames back to fill its buffer.
  'x-accel-buffering': 'no',
} as const;

const KEEPALIVE = ': keepalive\n\n';

export class SseResponse implements StreamOutput {
  private keepalive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly keepaliveMs: number,
  ) {}

  /**
   * Writes the head (with `headers`, the reply's own: X-Request-Id) and the `retry:` line, and ties
   * the stream to the connection: the client leaving ends it.
   */
  start(stream: EventStream, headers: Record<string, string | number | string[] | undefined>): void {
    const res = this.res;
    res.once('close', () => {
      this.stopKeepalive();
      this.closed = true;
      stream.end('gone');
    });
    if (res.destroyed) {
      this.closed = true;
      stream.end('gone');
      return;
    }
    res.writeHead(200, { ...headers, ...SSE_HEADERS });
    res.write(`retry: ${RETRY_MS}\n\n`);
    this.keepalive = setInterval(() => {
      // Only on an idle connection: bytes still queued for a client that reads nothing would only
      // pile up, and a connection that moves needs no comment to stay open.
      if (res.writableLength === 0) res.write(KEEPALIVE);
    }, this.keepaliveMs);
    this.keepalive.unref();
  }

  event(event: StoredEvent): void {
    if (!this.closed) this.res.write(eventFrame(event));
  }

  reset(reset: StreamReset): void {
    if (!this.closed) this.res.write(resetFrame(reset));
  }

  position(id: number): void {
    if (!this.closed) this.res.write(positionFrame(id));
  }

  sizeOf(event: StoredEvent): number {
    return eventFrameBytes(event);
  }

  get queued(): number {
    return this.res.writableLength;
  }

  drained(): Promise<void> {
    const res = this.res;
    if (this.closed || !res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  end(reason: EndReason): void {
    this.stopKeepalive();
    if (this.closed) return;
    this.closed = true;
    // A client that stopped reading would hold what is queued (and its socket) forever: cut it. It
    // resumes from the last id it got.
    if (reason === 'behind') this.res.destroy();
    else this.res.end();
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}
