/**
 * The typed client of the Tasklane API (SPEC §4, §8): one method per route, grouped by resource,
 * each resource in its own file under resources/ and composed here. Every call goes through
 * `TasklaneClient.request`; requests go out through undici on Node.js and the global `fetch`
 * elsewhere (`transport.ts`). Event streams go through `fetch` everywhere (`openStream`), read as
 * web streams by live-stream.ts.
 */
import { parseRetryAfter, TasklaneApiError, TasklaneConnectionError } from './errors.js';
import type { ApiResponse, Query, RequestOptions, StreamRequester, StreamRequestOptions } from './request.js';
import { EventsResource } from './resources/events.js';
import { InsightsResource } from './resources/insights.js';
import { KeysResource } from './resources/keys.js';
import { OrgResource } from './resources/org.js';
import { OrgsResource } from './resources/orgs.js';
import { ProjectsResource } from './resources/projects.js';
import { TasksResource } from './resources/tasks.js';
import { TypesResource } from './resources/types.js';
import { WebhooksResource } from './resources/webhooks.js';
import { WorkersResource } from './resources/workers.js';
import type { Problem } from './schemas/index.js';
import type { HttpAnswer, HttpSend } from './http-exchange.js';
import { defaultSend, describeFailure, fetchSend } from './transport.js';

export interface TasklaneClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`; a path prefix is kept. */
  url: string;
  /** An API key (`tl_…`), sent as a bearer token. */
  key: string;
  /**
   * Send every request through this `fetch`. Without it: undici's `request` on Node.js (a third of
   * the global fetch's CPU per request), the global `fetch` elsewhere.
   */
  fetch?: typeof fetch;
  /** Time limit of one request, default 30 s; a long-poll (`wait`) gets its wait on top. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class TasklaneClient implements StreamRequester {
  readonly tasks: TasksResource;
  readonly keys: KeysResource;
  readonly orgs: OrgsResource;
  /** The caller's own org: its settings. */
  readonly org: OrgResource;
  readonly projects: ProjectsResource;
  readonly workers: WorkersResource;
  readonly types: TypesResource;
  readonly insights: InsightsResource;
  /** The org's events: a live stream that resumes by itself, or pages. */
  readonly events: EventsResource;
  readonly webhooks: WebhooksResource;

  readonly #base: string;
  readonly #key: string;
  readonly #send: HttpSend;
  /** Streams go through a `fetch` (a web stream to parse as it comes), whichever sends requests. */
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(opts: TasklaneClientOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    this.#key = opts.key;
    this.#send = opts.fetch === undefined ? defaultSend() : fetchSend(opts.fetch);
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.tasks = new TasksResource(this);
    this.keys = new KeysResource(this);
    this.orgs = new OrgsResource(this);
    this.org = new OrgResource(this);
    this.projects = new ProjectsResource(this);
    this.workers = new WorkersResource(this);
    this.types = new TypesResource(this);
    this.insights = new InsightsResource(this);
    this.events = new EventsResource(this);
    this.webhooks = new WebhooksResource(this);
  }

  /**
   * Opens an event stream (`text/event-stream`): the body once a 2xx head is in, within the client's
   * `timeoutMs`; the body then lasts as long as the server holds it or `opts.signal` allows.
   * Resources follow it (live-stream.ts); this is the raw opening.
   */
  async openStream(path: string, opts: StreamRequestOptions): Promise<ReadableStream<Uint8Array>> {
    const url = `${this.#base}${path}${queryString(opts.query)}`;
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${this.#key}` };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
    // The time limit covers the head only: the signal of the fetch also governs the body.
    const head = new AbortController();
    const timer = setTimeout(() => {
      head.abort(new DOMException(`no answer within ${this.#timeoutMs} ms`, 'TimeoutError'));
    }, this.#timeoutMs);
    let res: Response;
    try {
      res = await this.#fetch(url, { headers, signal: AbortSignal.any([opts.signal, head.signal]) });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const timedOut = head.signal.aborted;
      const why = timedOut ? `no answer within ${this.#timeoutMs} ms` : describeFailure(err);
      throw new TasklaneConnectionError(`GET ${url}: ${why}`, { cause: err, timedOut });
    } finally {
      clearTimeout(timer);
    }
    if (res.status < 200 || res.status >= 300) {
      throw apiErrorOf({
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
        text: await res.text(),
      });
    }
    const type = res.headers.get('content-type') ?? '';
    if (res.body === null || !type.startsWith('text/event-stream')) {
      await res.body?.cancel();
      throw new TasklaneApiError({
        status: res.status,
        code: 'INVALID_RESPONSE',
        detail: `The server answered ${res.status} with '${type}', not an event stream.`,
        requestId: res.headers.get('x-request-id'),
        retryAfter: null,
        problem: null,
      });
    }
    return res.body;
  }

  /**
   * One request. A 2xx or 304 answers its status, headers and parsed JSON body (trusted to match
   * `T`); any other status throws `TasklaneApiError`, no answer at all `TasklaneConnectionError`.
   * The worker loop, and routes no resource wraps yet, can use it as well.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = `${this.#base}${path}${queryString(opts.query)}`;
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.#key}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers);
    const timeoutMs = (opts.timeoutMs ?? this.#timeoutMs) + (opts.holdMs ?? 0);
    // One controller for both the time limit and the caller's signal, and a timer cleared as soon
    // as the answer is in: AbortSignal.timeout and AbortSignal.any cost far more per request, and
    // a busy worker makes many.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    const callerAborted = () => controller.abort(opts.signal?.reason);
    if (opts.signal?.aborted) callerAborted();
    else opts.signal?.addEventListener('abort', callerAborted, { once: true });

    let res: HttpAnswer;
    try {
      res = await this.#send({
        method,
        url,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: controller.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err; // the caller's own abort is not ours to rename
      if (timedOut) {
        throw new TasklaneConnectionError(`${method} ${url}: no answer within ${timeoutMs} ms`, {
          cause: err,
          timedOut: true,
        });
      }
      throw new TasklaneConnectionError(`${method} ${url}: ${describeFailure(err)}`, {
        cause: err,
        timedOut: false,
      });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', callerAborted);
    }

    if (res.status === 304 || (res.status >= 200 && res.status < 300)) {
      return { status: res.status, headers: res.headers, body: parseBody(res) as T };
    }
    throw apiErrorOf(res);
  }
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function parseBody(res: HttpAnswer): unknown {
  if (res.text === '' || res.status === 204 || res.status === 304) return undefined;
  try {
    return JSON.parse(res.text);
  } catch {
    throw new TasklaneApiError({
      status: res.status,
      code: 'INVALID_RESPONSE',
      detail: `The server answered ${res.status} with a body that is not JSON.`,
      requestId: res.headers.get('x-request-id'),
      retryAfter: null,
      problem: null,
    });
  }
}

function apiErrorOf(res: HttpAnswer): TasklaneApiError {
  let problem: Problem | null = null;
  try {
    const parsed: unknown = JSON.parse(res.text);
    if (isProblem(parsed)) problem = parsed;
  } catch {
    // Not JSON (a proxy's error page): described by status below.
  }
  return new TasklaneApiError({
    status: res.status,
    code: problem?.code ?? `HTTP_${res.status}`,
    detail: problem?.detail ?? (res.statusText || `The server answered ${res.status}.`),
    requestId: problem?.requestId ?? res.headers.get('x-request-id'),
    errors: problem?.errors,
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    problem,
  });
}

function isProblem(v: unknown): v is Problem {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.code === 'string' && typeof p.detail === 'string' && typeof p.status === 'number';
}
