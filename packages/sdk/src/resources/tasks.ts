/** Tasks (SPEC §4): create, read, list, change, act on, delete, and their step history. */
import type { Static } from '@sinclair/typebox';
import { TasklaneApiError } from '../errors.js';
import { follow, type LiveStreamOptions, type StreamItem } from '../live-stream.js';
import { taskPath, type StreamRequester } from '../request.js';
import { TERMINAL_STATUSES } from '../vocabulary.js';
import type {
  BatchCreate,
  BulkActionRequest,
  BulkActionResult,
  CreatedTask,
  DeliveryListSchema,
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
  WebhookDelivery,
} from '../schemas/index.js';

/** The body of `POST /v1/tasks/{id}/{action}`: `reason`, and `requeue` for `reject`. */
export type TaskActionInput = Static<typeof TaskActionBody>;
/** An ETag as the server sends it (`"3"`), or a task's `version`. */
export type EtagLike = string | number;

export class TasksResource {
  constructor(private readonly client: StreamRequester) {}

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

  /**
   * The task's events as they happen: its retained history first, then live, each once and in
   * order, resuming by itself when the connection drops. Ends once the task is completed, failed or
   * canceled (after that status change) or deleted, or when `signal` aborts (quietly). Events carry
   * no result or error: `get` the task at the end for them. Throws NOT_FOUND for an unknown task.
   */
  async *watch(id: string, opts: LiveStreamOptions = {}): AsyncGenerator<StreamItem, void, undefined> {
    let done = false;
    for await (const item of follow({
      open: (lastEventId, signal) =>
        this.client.openStream(`${taskPath(id)}/events`, {
          signal,
          ...(lastEventId === undefined ? {} : { lastEventId }),
        }),
      after: undefined,
      options: opts,
      // The server ends a task's stream once the task is terminal and its events are sent (not at
      // a failure that a retry follows), or when it stops: only the first ends the watch.
      endedCleanly: async () => done || (await this.isOver(id, opts.signal)),
    })) {
      if (item.type === 'task.deleted') done = true;
      else if (item.type === 'task.status_changed') done = isTerminalStatus(item.data.to);
      else if (item.type === 'reset') done = false;
      yield item;
    }
  }

  /** Terminal or gone: the stream ended without saying so (its history was reaped). */
  private async isOver(id: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      return isTerminalStatus((await this.get(id, signal === undefined ? {} : { signal })).status);
    } catch (err) {
      if (err instanceof TasklaneApiError && err.status === 404) return true;
      throw err;
    }
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

  /**
   * One action on many tasks (≤ 1,000): named by `ids`, or the newest that match `filter` (then
   * `hasMore` and `nextCursor` say whether more match). Each task goes through the same rules as the
   * single action, on its own: one task's failure is in its result and does not stop the others.
   * `dryRun: true` only counts what matches.
   */
  async bulk(body: BulkActionRequest): Promise<BulkActionResult> {
    return (await this.client.request<BulkActionResult>('POST', '/v1/tasks/bulk', { body })).body;
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

  /** The task's webhook and callback deliveries, newest first (the last 100; admin). */
  async deliveries(id: string): Promise<WebhookDelivery[]> {
    const path = `${taskPath(id)}/deliveries`;
    return (await this.client.request<Static<typeof DeliveryListSchema>>('GET', path)).body.items;
  }

  /**
   * Send one of the task's deliveries again now, with the same `webhook-id` (admin): an endpoint's
   * or its callback's, which has no endpoint to retry it through.
   */
  async retryDelivery(id: string, deliveryId: string): Promise<WebhookDelivery> {
    const path = `${taskPath(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`;
    return (await this.client.request<WebhookDelivery>('POST', path)).body;
  }
}

const isTerminalStatus = (s: string) => (TERMINAL_STATUSES as readonly string[]).includes(s);
const etagOf = (tag: EtagLike) => (typeof tag === 'number' ? `"${tag}"` : tag);
const idempotency = (key: string | undefined): Record<string, string> =>
  key === undefined ? {} : { 'idempotency-key': key };
