/** A local webhook receiver for tests: a node http server on 127.0.0.1 that records every request. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** What it was answered ('hold': nothing). */
  answer: number | 'hold';
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The status of the next answers, in order (then 200); 'hold': no answer until close(). */
  answers: Array<number | 'hold'>;
  /** Where a 3xx answer points (default: a closed port). */
  location: string;
  /** Deliveries (by webhook-id) answered 503 every time, whatever `answers` holds. */
  refused: Set<string>;
  close(): Promise<void>;
}

/** `delayMs`: how long to wait before each answer (default none), e.g. random, so attempts overlap. */
export async function startReceiver(opts: { delayMs?: () => number } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const answers: Array<number | 'hold'> = [];
  const self = { location: 'http://127.0.0.1:1/', refused: new Set<string>() };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      const answer = typeof id === 'string' && self.refused.has(id) ? 503 : (answers.shift() ?? 200);
      received.push({ headers: req.headers as Record<string, string>, body, answer });
      if (answer === 'hold') return;
      res.statusCode = answer;
      if (res.statusCode >= 300 && res.statusCode < 400) res.setHeader('location', self.location);
      const delay = opts.delayMs?.() ?? 0;
      if (delay > 0) setTimeout(() => res.end('ok'), delay);
      else res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(self, {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
