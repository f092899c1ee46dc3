/**
 * The client's two transports (`transport.ts`): undici's `request`, the default on Node.js, and the
 * global `fetch` (other runtimes, or `fetch` passed in). Each runs the same cases against a plain
 * HTTP server that answers what each case needs, so both map answers and failures alike.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TasklaneApiError, TasklaneClient, TasklaneConnectionError } from '../src/index.js';

let server: http.Server;
let url: string;

/** Each path is one kind of answer. `/hold` never answers. */
function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    switch (req.url) {
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/json', etag: '"3"', 'x-twice': ['a', 'b'] });
        res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization }));
        return;
      case '/not-modified':
        res.writeHead(304, { etag: '"3"' });
        res.end();
        return;
      case '/empty':
        res.writeHead(204);
        res.end();
        return;
      case '/problem':
        res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '2', 'x-request-id': 'r-1' });
        res.end(JSON.stringify({ status: 429, code: 'RATE_LIMITED', detail: 'Slow down.', requestId: 'r-1' }));
        return;
      case '/gateway':
        res.writeHead(502, { 'content-type': 'text/html', 'retry-after': '7', 'x-request-id': 'r-2' });
        res.end('<html>bad gateway</html>');
        return;
      case '/not-json':
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-3' });
        res.end('{oops');
        return;
      case '/hold':
        return; // no answer: the client's time limit or the caller's abort ends it
      default:
        res.writeHead(404);
        res.end();
    }
  });
}

beforeAll(async () => {
  server = http.createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transports = [
  { name: 'undici (the default on Node.js)', options: {} },
  { name: 'fetch (passed in)', options: { fetch: globalThis.fetch } },
];

describe.each(transports)('$name', ({ name, options }) => {
  const client = () => new TasklaneClient({ url, key: 'tl_k', ...options });

  it('sends method, body and key; answers status, parsed body and headers by any case', async () => {
    const res = await client().request<{ method: string; body: string; auth: string }>('POST', '/echo', {
      body: { a: 1 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ method: 'POST', body: '{"a":1}', auth: 'Bearer tl_k' });
    expect(res.headers.get('ETag')).toBe('"3"');
    expect(res.headers.get('x-twice')).toBe('a, b');
    expect(res.headers.get('x-missing')).toBeNull();
    // The default goes around fetch's Response and Headers on Node.js.
    expect(res.headers instanceof Headers).toBe(name.startsWith('fetch'));
  });

  it('answers no body for 304 and 204', async () => {
    expect(await client().request('GET', '/not-modified')).toMatchObject({ status: 304, body: undefined });
    expect(await client().request('DELETE', '/empty')).toMatchObject({ status: 204, body: undefined });
  });

  it('maps a problem to TasklaneApiError with Retry-After and the request id', async () => {
    const err = await client()
      .request('GET', '/problem')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TasklaneApiError);
    expect(err).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      detail: 'Slow down.',
      retryAfter: 2,
      requestId: 'r-1',
    });
  });

  it('describes a body that is not a problem by its status text', async () => {
    const err = await client()
      .request('GET', '/gateway')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 502,
      code: 'HTTP_502',
      detail: 'Bad Gateway',
      retryAfter: 7,
      requestId: 'r-2',
    });
    const bad = await client()
      .request('GET', '/not-json')
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 200, code: 'INVALID_RESPONSE', requestId: 'r-3' });
  });

  it('throws TasklaneConnectionError naming the reason when nothing listens', async () => {
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    const err = await new TasklaneClient({ url: `http://127.0.0.1:${port}`, key: 'tl_k', ...options })
      .request('GET', '/echo')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TasklaneConnectionError);
    expect(err).toMatchObject({ timedOut: false });
    expect((err as Error).message).toContain('cannot reach the server (ECONNREFUSED)');
  });

  it('gives up after timeoutMs, and rethrows the caller’s abort as is', async () => {
    await expect(client().request('GET', '/hold', { timeoutMs: 50 })).rejects.toMatchObject({
      name: 'TasklaneConnectionError',
      timedOut: true,
    });
    const controller = new AbortController();
    const held = client().request('GET', '/hold', { signal: controller.signal });
    controller.abort();
    await expect(held).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('the default transport', () => {
  it.each(['bun', 'deno'])('is the global fetch under %s, which also reports a Node version', async (runtime) => {
    Object.defineProperty(process.versions, runtime, { value: '1.0.0', configurable: true });
    try {
      const res = await new TasklaneClient({ url, key: 'tl_k' }).request('GET', '/echo');
      expect(res.headers instanceof Headers).toBe(true);
    } finally {
      delete (process.versions as Record<string, string | undefined>)[runtime];
    }
  });
});
