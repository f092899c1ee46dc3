/**
 * The client's transport on Node.js: undici's `request` through its global dispatcher (a keep-alive
 * pool per origin), with none of fetch's Request, Response or web-stream objects. Loaded by
 * `defaultSend` on the first request.
 */
import { STATUS_CODES } from 'node:http';
import { request, type Dispatcher } from 'undici';
import type { AnswerHeaders, HttpSend } from './http-exchange.js';

export const undiciSend: HttpSend = async (req) => {
  const res = await request(req.url, {
    method: req.method as Dispatcher.HttpMethod,
    headers: req.headers,
    body: req.body,
    signal: req.signal,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    statusText: STATUS_CODES[res.statusCode] ?? '',
    headers: new PlainHeaders(res.headers),
    text,
  };
};

/** undici's header object (lower-case names; a repeated header as an array) read like `Headers`. */
class PlainHeaders implements AnswerHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}
