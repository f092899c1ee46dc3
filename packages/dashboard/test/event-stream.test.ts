/**
 * The dashboard's SSE client (src/live/event-stream.ts) against a fake fetch: frames become events,
 * a drop reconnects with Last-Event-ID after a backoff, `reset` asks for a reload, a 404 stops for
 * good (no retry loop), a hidden tab pauses and resumes from the last id, a task stream that ends
 * stays ended.
 */
import { describe, expect, it } from 'vitest';
import { openEventStream, type StreamState } from '../src/live/event-stream.js';
import type { TaskEvent } from '../src/live/events.js';

interface Call {
  url: string;
  headers: Record<string, string>;
  push: (text: string) => void;
  end: () => void;
  fail: () => void;
}

/** A fetch whose answers the test writes: each call gets an open SSE body, or the given status. */
function fakeFetch(statuses: number[] = []) {
  const calls: Call[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const status = statuses.shift() ?? 200;
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    const enc = new TextEncoder();
    const signal = init?.signal;
    signal?.addEventListener('abort', () => {
      try {
        ctl.error(new DOMException('aborted', 'AbortError'));
      } catch {
        // already closed
      }
    });
    calls.push({
      url: String(url),
      headers: init?.headers as Record<string, string>,
      push: (t) => ctl.enqueue(enc.encode(t)),
      end: () => ctl.close(),
      fail: () => ctl.error(new TypeError('network')),
    });
    if (status !== 200) return new Response('{"code":"ROUTE_NOT_FOUND"}', { status });
    return new Response(body, { status, headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    setTimer: (fn: () => void, ms: number) => {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimer: (h: unknown) => void pending.delete(h as number),
    /** Fire the timers of at most `maxMs` (the backoffs), not the stall watchdog. */
    fire(maxMs = 40_000) {
      const due = [...pending].filter(([, t]) => t.ms <= maxMs);
      for (const [h, t] of due) {
        pending.delete(h);
        t.fn();
      }
      return due.map(([, t]) => t.ms);
    },
  };
}

const frame = (id: number, type: string, data: unknown) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, taskId: 't1', time: '2026-01-01T00:00:00.000Z', data })}\n\n`;

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('openEventStream', () => {
  it('turns frames into events, ignores comments, and resumes after a drop with Last-Event-ID', async () => {
    const { fetch, calls } = fakeFetch();
    const timers = manualTimers();
    const events: TaskEvent[] = [];
    const states: StreamState[] = [];
    const opens: boolean[] = [];
    const stream = openEventStream({
      path: '/v1/events?type=task.progress',
      key: 'tl_secret',
      fetch,
      ...timers,
      random: () => 0.5,
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s),
      onOpen: (resumed) => opens.push(resumed),
    });
    await until(() => calls.length === 1 && states.includes('live'), 'the first connection');
    expect(calls[0]?.url).toBe('/v1/events?type=task.progress');
    expect(calls[0]?.headers).toEqual({ authorization: 'Bearer tl_secret', accept: 'text/event-stream' });
    calls[0]?.push(': keepalive\n\n');
    calls[0]?.push(frame(7, 'task.progress', { progress: 0.5, progressMessage: 'half', version: 3 }));
    calls[0]?.push(
      frame(8, 'task.status_changed', { from: 'in_progress', to: 'completed', cause: 'complete', version: 4 }).slice(
        0,
        20,
      ),
    );
    await until(() => events.length === 1, 'the first event');
    expect(events[0]).toMatchObject({ id: 7, type: 'task.progress', data: { progress: 0.5 } });

    calls[0]?.fail();
    await until(() => states.at(-1) === 'retrying', 'a retry after the drop');
    expect(timers.fire()).toEqual([250]); // half of the first 500 ms backoff (random 0.5)
    await until(() => calls.length === 2, 'the reconnection');
    expect(calls[1]?.headers['last-event-id']).toBe('7');
    await until(() => opens.length === 2, 'the second open');
    expect(opens).toEqual([false, true]);
    stream.close();
  });

  it('reports a reset so the view reloads, and goes on live', async () => {
    const { fetch, calls } = fakeFetch();
    const resets: string[] = [];
    const events: TaskEvent[] = [];
    const stream = openEventStream({
      path: '/v1/events',
      key: 'k',
      fetch,
      ...manualTimers(),
      onEvent: (e) => events.push(e),
      onReset: (r) => resets.push(r),
    });
    await until(() => calls.length === 1, 'the connection');
    calls[0]?.push('event: reset\ndata: {"reason":"expired"}\n\n');
    calls[0]?.push(frame(90, 'task.created', { status: 'queued', version: 1 }));
    await until(() => events.length === 1, 'the event after the reset');
    expect(resets).toEqual(['expired']);
    expect(stream.lastEventId()).toBe('90');
    stream.close();
  });

  it('a 404 (no such endpoint on this server) ends in unavailable, with no retry', async () => {
    const { fetch, calls } = fakeFetch([404]);
    const timers = manualTimers();
    const states: StreamState[] = [];
    const stream = openEventStream({
      path: '/v1/events',
      key: 'k',
      fetch,
      ...timers,
      onEvent: () => undefined,
      onState: (s) => states.push(s),
    });
    await until(() => states.at(-1) === 'unavailable', 'unavailable');
    expect(timers.fire()).toEqual([]);
    expect(calls).toHaveLength(1);
    stream.close();
  });

  it('a server that accepts and closes at once is retried with growing backoff, not in a loop', async () => {
    const { fetch, calls } = fakeFetch();
    const timers = manualTimers();
    const states: StreamState[] = [];
    const stream = openEventStream({
      path: '/p',
      key: 'k',
      fetch,
      ...timers,
      random: () => 0.999,
      onEvent: () => undefined,
      onState: (s) => states.push(s),
    });
    const delays: number[] = [];
    for (let i = 1; i <= 3; i++) {
      await until(() => calls.length === i, `connection ${i}`);
      calls[i - 1]?.end();
      await until(() => states.at(-1) === 'retrying', `retry ${i}`);
      delays.push(...timers.fire());
    }
    expect(delays).toEqual([500, 999, 1998]);
    stream.close();
  });

  it('a server error is retried with growing backoff', async () => {
    const { fetch, calls } = fakeFetch([503, 503, 200]);
    const timers = manualTimers();
    const states: StreamState[] = [];
    const stream = openEventStream({
      path: '/p',
      key: 'k',
      fetch,
      ...timers,
      random: () => 0.999,
      onEvent: () => undefined,
      onState: (s) => states.push(s),
    });
    await until(() => states.at(-1) === 'retrying', 'the first retry');
    expect(timers.fire()).toEqual([500]);
    await until(() => calls.length === 2 && states.at(-1) === 'retrying', 'the second retry');
    expect(timers.fire()).toEqual([999]);
    await until(() => states.at(-1) === 'live', 'live');
    stream.close();
  });

  it('pauses while the tab is hidden and resumes from the last event id', async () => {
    const { fetch, calls } = fakeFetch();
    let hidden = false;
    let notify = () => undefined as void;
    const states: StreamState[] = [];
    const stream = openEventStream({
      path: '/v1/tasks/t1/events',
      key: 'k',
      fetch,
      ...manualTimers(),
      visibility: { hidden: () => hidden, subscribe: (fn) => ((notify = fn), () => undefined) },
      onEvent: () => undefined,
      onState: (s) => states.push(s),
    });
    await until(() => states.at(-1) === 'live', 'live');
    calls[0]?.push(frame(3, 'task.step', { step: { time: '2026-01-01T00:00:00.000Z', message: 'x' }, version: 2 }));
    await until(() => stream.lastEventId() === '3', 'the event');
    hidden = true;
    notify();
    await until(() => states.at(-1) === 'paused', 'paused');
    expect(calls).toHaveLength(1);
    hidden = false;
    notify();
    await until(() => calls.length === 2, 'the resumption');
    expect(calls[1]?.headers['last-event-id']).toBe('3');
    stream.close();
  });

  it('a stream the server ends (a done task) stays ended when told not to reconnect', async () => {
    const { fetch, calls } = fakeFetch();
    const timers = manualTimers();
    const states: StreamState[] = [];
    const stream = openEventStream({
      path: '/v1/tasks/t1/events',
      key: 'k',
      fetch,
      ...timers,
      reconnectOnEnd: () => false,
      onEvent: () => undefined,
      onState: (s) => states.push(s),
    });
    await until(() => states.at(-1) === 'live', 'live');
    calls[0]?.end();
    await until(() => states.at(-1) === 'ended', 'ended');
    expect(timers.fire()).toEqual([]);
    stream.close();
  });
});
