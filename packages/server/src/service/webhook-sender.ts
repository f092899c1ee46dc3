/**
 * One HTTP attempt of a delivery: a POST of the body with its headers, no redirect followed (a 3xx
 * is a failed attempt), at most `timeoutMs` in all, at most 64 KiB of the answer read. The address
 * connected to is checked against the address rules (webhook-address.ts) when the socket resolves
 * its host: through a custom `lookup` for names, and before connecting for IP literals, so a name
 * that resolves to a private address after registration is still refused.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ipLiteral, refusedRange, type AddressPolicy } from './webhook-address.js';

export interface AttemptOutcome {
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
}

const MAX_BODY_BYTES = 64 * 1024;

export interface SendOptions extends AddressPolicy {
  timeoutMs: number;
  signal?: AbortSignal;
}

export function sendWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: SendOptions,
): Promise<AttemptOutcome> {
  const started = performance.now();
  const done = (httpStatus: number | null, error: string | null): AttemptOutcome => ({
    httpStatus,
    durationMs: Math.round(performance.now() - started),
    error,
  });
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return Promise.resolve(done(null, 'invalid URL'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve(done(null, `scheme ${url.protocol} refused`));
  }
  const literal = ipLiteral(url.hostname);
  if (literal !== null && !opts.allowPrivate) {
    const range = refusedRange(literal);
    if (range !== null) return Promise.resolve(done(null, `address ${literal} refused (${range})`));
  }
  const lookup: LookupFunction = (hostname, options, callback) => {
    opts.resolve(hostname).then(
      (addresses) => {
        const address = addresses[0];
        if (address === undefined) return callback(new Error(`${hostname} does not resolve`), '', 4);
        const range = opts.allowPrivate ? null : refusedRange(address);
        if (range !== null) return callback(new Error(`address ${address} refused (${range})`), '', 4);
        const family = address.includes(':') ? 6 : 4;
        if (options.all) return callback(null, [{ address, family }] as never, family);
        callback(null, address, family);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), '', 4),
    );
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(done(status, error));
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup,
        agent: false,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      },
      (res) => {
        let read = 0;
        const status = res.statusCode ?? null;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // Enough of the answer: its status is what counts.
          if (read >= MAX_BODY_BYTES)
            finish(status, status !== null && status >= 200 && status < 300 ? null : `HTTP ${status}`);
        });
        res.on('end', () =>
          finish(status, status !== null && status >= 200 && status < 300 ? null : `HTTP ${status ?? '?'}`),
        );
        res.on('error', (err) => finish(status, err.message));
      },
    );
    const timer = setTimeout(() => finish(null, `no answer within ${opts.timeoutMs} ms`), opts.timeoutMs);
    req.on('error', (err) => finish(null, err.message));
    req.end(body);
  });
}
