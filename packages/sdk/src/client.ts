/**
 * The typed client of the Tasklane API (SPEC §4, §8): one method per route, grouped by resource.
 * Every call goes through `TasklaneClient.request`, which the worker loop and routes this client
 * does not wrap yet can use as well; requests go out through undici on Node.js and the global
 * `fetch` elsewhere (`transport.ts`).
 */
import type { Static } from '@sinclair/typebox';
import { parseRetryAfter, TasklaneApiError, TasklaneConnectionError } from './errors.js';
import {
  defaultSend,
  describeFailure,
  fetchSend,
  type AnswerHeaders,
  type HttpAnswer,
  type HttpSend,
} from './transport.js';
import { InsightsResource, TypesResource, WorkersResource } from './worker-resources.js';
import type {
  BatchCreate,
  CreatedTask,
  KeyCreate,
  KeyInfo,
  KeyListSchema,
  KeyWithSecret,
  OrgCreate,
  OrgCreated,
  Problem,
  ProjectCreate,
  ProjectInfo,
  ProjectListSchema,
  Step,
  StepInputT,
  StepsResponse,
  Task,
  TaskAction,
  TaskActionBody,
  TaskCreate,
  TaskList,
  TaskListParams,
  TaskPatch,
} from './schemas/index.js';

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

type QueryScalar = string | number | boolean;
/** Query parameters; an array repeats the key (`status=a&status=b`), undefined and null are left out. */
export type Query = Record<string, QueryScalar | readonly QueryScalar[] | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  /** Replaces the client's `timeoutMs` for this request. */
  timeoutMs?: number;
  /** How long the server may hold this request (a long-poll); added to the time limit. */
  holdMs?: number;
  signal?: AbortSignal;
}

/** A 2xx answer. `body` is undefined when there was none (204, 304). */
export interface ApiResponse<T> {
  status: number;
  headers: AnswerHeaders;
  body: T;
}

/** The body of `POST /v1/tasks/{id}/{action}`: `reason`, and `requeue` for `reject`. */
export type TaskActionInput = Static<typeof TaskActionBody>;
/** An ETag as the server sends it (`"3"`), or a task's `version`. */
export type EtagLike = string | number;

const DEFAULT_TIMEOUT_MS = 30_000;

export class TasklaneClient {
  readonly tasks: TasksResource;
  readonly keys: KeysResource;
  readonly orgs: OrgsResource;
  readonly projects: ProjectsResource;
  readonly workers: WorkersResource;
  readonly types: TypesResource;
  readonly insights: InsightsResource;

  readonly #base: string;
  readonly #key: string;
  readonly #send: HttpSend;
  readonly #timeoutMs: number;

  constructor(opts: TasklaneClientOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    this.#key = opts.key;
    this.#send = opts.fetch === undefined ? defaultSend() : fetchSend(opts.fetch);
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.tasks = new TasksResource(this);
    this.keys = new KeysResource(this);
    this.orgs = new OrgsResource(this);
    this.projects = new ProjectsResource(this);
    this.workers = new WorkersResource(this);
    this.types = new TypesResource(this);
    this.insights = new InsightsResource(this);
  }

  /**
   * One request. A 2xx or 304 answers its status, headers and parsed JSON body (trusted to match
   * `T`); any other status throws `TasklaneApiError`, no answer at all `TasklaneConnectionError`.
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

class TasksResource {
  constructor(private readonly client: TasklaneClient) {}

  /** Create a task. With an idempotency key, the same key and body answer the same task again. */
  async create(body: TaskCreate, opts: { idempotencyKey?: string } = {}): Promise<Task> {
    return (await this.client.request<Task>('POST', '/v1/tasks', { body, headers: idempotency(opts.idempotencyKey) }))
      .body;
  }

  /**
   * Create up to 1,000 tasks in one transaction, all or none; answered in the order given. With
   * `minimal: true` (`Prefer: return=minimal`), each task comes back as `{ id, identifier, status,
   * version }` only: much less to send and parse when creating many.
   */
  createBatch(body: BatchCreate, opts?: { idempotencyKey?: string; minimal?: false }): Promise<Task[]>;
  createBatch(body: BatchCreate, opts: { idempotencyKey?: string; minimal: true }): Promise<CreatedTask[]>;
  async createBatch(
    body: BatchCreate,
    opts: { idempotencyKey?: string; minimal?: boolean } = {},
  ): Promise<Task[] | CreatedTask[]> {
    const res = await this.client.request<{ tasks: Task[] | CreatedTask[] }>('POST', '/v1/tasks/batch', {
      body,
      headers: { ...idempotency(opts.idempotencyKey), ...(opts.minimal === true ? { prefer: 'return=minimal' } : {}) },
    });
    return res.body.tasks;
  }

  /**
   * The task, by id or project identifier (`OPS-42`). `wait` (seconds, ≤ 60) long-polls: without
   * `ifNoneMatch` until the task is done, with it until the task changes. With `ifNoneMatch` (a
   * version or ETag), `null` means "not modified".
   */
  get(id: string, opts?: { wait?: number; ifNoneMatch?: undefined; signal?: AbortSignal }): Promise<Task>;
  get(id: string, opts: { wait?: number; ifNoneMatch?: EtagLike; signal?: AbortSignal }): Promise<Task | null>;
  async get(
    id: string,
    opts: { wait?: number; ifNoneMatch?: EtagLike; signal?: AbortSignal } = {},
  ): Promise<Task | null> {
    const res = await this.client.request<Task | undefined>('GET', taskPath(id), {
      query: { wait: opts.wait },
      headers: opts.ifNoneMatch === undefined ? {} : { 'if-none-match': etagOf(opts.ifNoneMatch) },
      holdMs: (opts.wait ?? 0) * 1000,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    return res.status === 304 || res.body === undefined ? null : res.body;
  }

  /** One page, newest first. */
  async list(params: TaskListParams = {}): Promise<TaskList> {
    return (await this.client.request<TaskList>('GET', '/v1/tasks', { query: params })).body;
  }

  /** Every page from `params.cursor` (or the first) on, fetched as it is consumed. */
  async *listPages(params: TaskListParams = {}): AsyncGenerator<TaskList, void, undefined> {
    let cursor = params.cursor;
    for (;;) {
      const page = await this.list(cursor === undefined ? params : { ...params, cursor });
      yield page;
      if (!page.hasMore || page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }

  /** Every matching task, newest first, walking the pages with `nextCursor`. */
  async *listAll(params: TaskListParams = {}): AsyncGenerator<Task, void, undefined> {
    for await (const page of this.listPages(params)) yield* page.items;
  }

  /** Change the writable fields; with `ifMatch` (a version or ETag), 412 if the task changed since. */
  async update(id: string, patch: TaskPatch, opts: { ifMatch?: EtagLike } = {}): Promise<Task> {
    const headers: Record<string, string> = opts.ifMatch === undefined ? {} : { 'if-match': etagOf(opts.ifMatch) };
    return (await this.client.request<Task>('PATCH', taskPath(id), { body: patch, headers })).body;
  }

  async action(id: string, action: TaskAction, body: TaskActionInput = {}): Promise<Task> {
    return (await this.client.request<Task>('POST', `${taskPath(id)}/${action}`, { body })).body;
  }

  start(id: string): Promise<Task> {
    return this.action(id, 'start');
  }
  cancel(id: string, body?: TaskActionInput): Promise<Task> {
    return this.action(id, 'cancel', body);
  }
  retry(id: string): Promise<Task> {
    return this.action(id, 'retry');
  }
  block(id: string, reason?: string): Promise<Task> {
    return this.action(id, 'block', reason === undefined ? undefined : { reason });
  }
  unblock(id: string): Promise<Task> {
    return this.action(id, 'unblock');
  }
  approve(id: string, body?: TaskActionInput): Promise<Task> {
    return this.action(id, 'approve', body);
  }
  /** `requeue: true` sends it back to the queue; otherwise it fails with `REJECTED`. */
  reject(id: string, body?: TaskActionInput): Promise<Task> {
    return this.action(id, 'reject', body);
  }
  archive(id: string): Promise<Task> {
    return this.action(id, 'archive');
  }
  unarchive(id: string): Promise<Task> {
    return this.action(id, 'unarchive');
  }

  /** Delete a terminal task (409 while active, or while an active task depends on it). */
  async delete(id: string): Promise<void> {
    await this.client.request<undefined>('DELETE', taskPath(id));
  }

  /** The whole step history, oldest first. */
  async steps(id: string): Promise<Step[]> {
    return (await this.client.request<Static<typeof StepsResponse>>('GET', `${taskPath(id)}/steps`)).body.steps;
  }

  /** Append steps (with the worker's lease id, or tasks:write on a task no worker holds); answers the whole history. */
  async appendSteps(id: string, steps: StepInputT[], opts: { leaseId?: string } = {}): Promise<Step[]> {
    const body = opts.leaseId === undefined ? { steps } : { steps, leaseId: opts.leaseId };
    return (await this.client.request<Static<typeof StepsResponse>>('POST', `${taskPath(id)}/steps`, { body })).body
      .steps;
  }
}

class KeysResource {
  constructor(private readonly client: TasklaneClient) {}

  /** A new key of the caller's org; `secret` is in this answer only. */
  async create(body: KeyCreate): Promise<KeyWithSecret> {
    return (await this.client.request<KeyWithSecret>('POST', '/v1/keys', { body })).body;
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.client.request<Static<typeof KeyListSchema>>('GET', '/v1/keys')).body.items;
  }

  /** Revoke at once: the next request with that key answers 401. */
  async revoke(id: string): Promise<void> {
    await this.client.request<undefined>('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }
}

class OrgsResource {
  constructor(private readonly client: TasklaneClient) {}

  /** Needs a root key; answers the org and its first admin key, secret included (once). */
  async create(body: OrgCreate): Promise<OrgCreated> {
    return (await this.client.request<OrgCreated>('POST', '/v1/orgs', { body })).body;
  }
}

class ProjectsResource {
  constructor(private readonly client: TasklaneClient) {}

  async create(body: ProjectCreate): Promise<ProjectInfo> {
    return (await this.client.request<ProjectInfo>('POST', '/v1/projects', { body })).body;
  }

  async list(): Promise<ProjectInfo[]> {
    return (await this.client.request<Static<typeof ProjectListSchema>>('GET', '/v1/projects')).body.items;
  }

  /** By id or by key (`OPS`). */
  async get(idOrKey: string): Promise<ProjectInfo> {
    return (await this.client.request<ProjectInfo>('GET', `/v1/projects/${encodeURIComponent(idOrKey)}`)).body;
  }
}

export type { TasksResource, KeysResource, OrgsResource, ProjectsResource };

const taskPath = (id: string) => `/v1/tasks/${encodeURIComponent(id)}`;
const etagOf = (tag: EtagLike) => (typeof tag === 'number' ? `"${tag}"` : tag);
const idempotency = (key: string | undefined): Record<string, string> =>
  key === undefined ? {} : { 'idempotency-key': key };

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
