/**
 * The live iterator against answers no Tasklane server sends, through a `fetch` the test plays: what
 * it ignores (unknown fields, comments, an id line alone), what it refuses for good (a body that is
 * not an event stream, an event that is not JSON), and what it resumes from (a body cut mid-frame).
 */
import { describe, expect, it } from 'vitest';
import { TasklaneClient, type StreamItem } from '../src/index.js';

const EVENT = (id: number) =>
  JSON.stringify({
    id,
    type: 'task.created',
    taskId: 't1',
    time: '2026-01-01T00:00:00.000Z',
    data: { status: 'queued', version: 1 },
  });

/** A `fetch` that answers each call with the next body, and records the Last-Event-ID it was sent. */
function scripted(bodies: Array<{ text: string; type?: string; cut?: boolean }>) {
  const sent: Array<string | null> = [];
  const fetchFn: typeof fetch = (_input, init) => {
    sent.push(new Headers(init?.headers).get('last-event-id'));
    const next = bodies.shift();
    if (next === undefined) return new Promise(() => undefined); // hold: nothing more to say
    const bytes = new TextEncoder().encode(next.text);
    let given = false;
    // The bytes first, then the end or the cut (an errored stream drops what it still queues).
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!given) {
          given = true;
          controller.enqueue(bytes);
        } else if (next.cut === true) controller.error(new TypeError('terminated'));
        else controller.close();
      },
    });
    return Promise.resolve(
      new Response(body, { status: 200, headers: { 'content-type': next.type ?? 'text/event-stream' } }),
    );
  };
  return { fetchFn, sent };
}

async function take(items: AsyncIterable<StreamItem>, n: number): Promise<StreamItem[]> {
  const got: StreamItem[] = [];
  for await (const item of items) if (got.push(item) === n) break;
  return got;
}

const FAST = { initialDelayMs: 1, maxDelayMs: 5 };

describe('the live iterator on odd answers', () => {
  it('ignores comments, unknown fields and an id line alone; resumes after the last whole event when cut mid-frame', async () => {
    const { fetchFn, sent } = scripted([
      {
        text: `retry: 2000\n\nid: 4\n\n: keepalive\n\nfoo: bar\nid: 5\nevent: task.created\ndata: ${EVENT(5)}\n\nid: 6\nevent: task.cr`,
        cut: true,
      },
      { text: `id: 7\nevent: task.created\ndata: ${EVENT(7)}\n\n` },
    ]);
    const client = new TasklaneClient({ url: 'http://tasklane.test', key: 'k', fetch: fetchFn });
    const got = await take(client.events.stream({}, { after: 3, ...FAST }), 2);
    expect(got.map((i) => (i.type === 'reset' ? null : i.id))).toEqual([5, 7]);
    expect(sent).toEqual(['3', '5']);
  });

  it('a reset frame is a typed item, and the stream goes on after its lastId', async () => {
    const reset = { reason: 'expired', after: 1, lastId: 9 };
    const { fetchFn, sent } = scripted([
      { text: `id: 9\nevent: reset\ndata: ${JSON.stringify(reset)}\n\n` },
      { text: `id: 10\nevent: task.created\ndata: ${EVENT(10)}\n\n` },
    ]);
    const client = new TasklaneClient({ url: 'http://tasklane.test', key: 'k', fetch: fetchFn });
    const got = await take(client.events.stream({}, { after: 1, ...FAST }), 2);
    expect(got).toEqual([{ type: 'reset', data: reset }, JSON.parse(EVENT(10))]);
    expect(sent).toEqual(['1', '9']);
  });

  it('refuses for good a body that is not an event stream, and an event that is not JSON', async () => {
    const html = scripted([{ text: '<html>proxy</html>', type: 'text/html' }]);
    const viaProxy = new TasklaneClient({ url: 'http://tasklane.test', key: 'k', fetch: html.fetchFn });
    await expect(take(viaProxy.events.stream({}, { after: 0, ...FAST }), 1)).rejects.toMatchObject({
      code: 'INVALID_RESPONSE',
    });
    const broken = scripted([{ text: 'id: 1\nevent: task.created\ndata: {nope\n\n' }]);
    const client = new TasklaneClient({ url: 'http://tasklane.test', key: 'k', fetch: broken.fetchFn });
    await expect(take(client.events.stream({}, { after: 0, ...FAST }), 1)).rejects.toMatchObject({
      code: 'INVALID_RESPONSE',
    });
    expect(broken.sent).toHaveLength(1);
  });
});
