/**
 * How the client sends one request: the little it needs of an HTTP exchange, so that it can go
 * through the global `fetch` (browsers, Deno, Bun, or a `fetch` the caller passes in) or, on
 * Node.js, through undici's `request` (`transport-node.ts`).
 *
 * Why two: in Node 20 the global `fetch` is undici wrapped in the WHATWG machinery (Request,
 * Response, Headers, web streams), and that wrapping costs about three times the CPU of undici's own
 * `request` per call, and a millisecond of latency on each hop (bench/README.md, "the SDK's
 * transport"). A worker makes a request every few tasks and a waiting one is on the pick-up path.
 */
import type { HttpSend } from './http-exchange.js';

export function fetchSend(fetchFn: typeof fetch): HttpSend {
  return async (req) => {
    const res = await fetchFn(req.url, {
      method: req.method,
      headers: req.headers,
      signal: req.signal,
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    return { status: res.status, statusText: res.statusText, headers: res.headers, text: await res.text() };
  };
}

/**
 * undici on Node.js (loaded on the first request, so that other runtimes and bundles never load
 * it), the global `fetch` elsewhere.
 */
export function defaultSend(): HttpSend {
  if (!onNode()) return fetchSend(globalThis.fetch.bind(globalThis));
  let loaded: Promise<HttpSend> | undefined;
  return async (req) => {
    loaded ??= import('./transport-node.js').then((m) => m.undiciSend);
    return (await loaded)(req);
  };
}

/** Node.js itself: Bun and Deno also say which Node version they stand in for, and have their own fetch. */
function onNode(): boolean {
  if (typeof process !== 'object' || process === null) return false;
  const v = process.versions as Record<string, string | undefined> | undefined;
  return typeof v?.node === 'string' && v.bun === undefined && v.deno === undefined;
}

/**
 * Why a request got no answer, in words: `fetch` hides the reason (ECONNREFUSED, ENOTFOUND) in
 * `cause`, undici puts its code on the error itself.
 */
export function describeFailure(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  const code = codeOf(err) ?? codeOf(cause);
  if (code !== undefined && !code.startsWith('UND_ERR_')) return `cannot reach the server (${code})`;
  if (cause instanceof Error) return `cannot reach the server (${cause.message})`;
  return err instanceof Error ? err.message : String(err);
}

function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
