/** Client resources for the worker side (SPEC §5): claims and reports, type settings, lists and stats. */
import type { Static } from '@sinclair/typebox';
import type { TasklaneClient } from './client.js';
import type {
  ClaimRequest,
  CompleteRequest,
  FailRequest,
  HeartbeatRequest,
  ListView,
  ReleaseRequest,
  Report,
  ReportsResult,
  Stats,
  Task,
  TypeSettings,
  TypeSettingsInput,
  TypeSettingsList,
} from './schemas/index.js';

const taskPath = (id: string) => `/v1/tasks/${encodeURIComponent(id)}`;

export class WorkersResource {
  constructor(private readonly client: TasklaneClient) {}

  /** Claim up to `limit` tasks; with `waitMs` the server holds the request until one is claimable. */
  async claim(body: ClaimRequest, opts: { signal?: AbortSignal } = {}): Promise<Task[]> {
    const res = await this.client.request<{ tasks: Task[] }>('POST', '/v1/tasks/claim', {
      body,
      holdMs: body.waitMs ?? 0,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    return res.body.tasks;
  }

  /** Claim one given task (an agent picking a card). */
  async claimOne(id: string, body: { workerId: string; leaseMs?: number }): Promise<Task> {
    return (await this.client.request<Task>('POST', `${taskPath(id)}/claim`, { body })).body;
  }

  async heartbeat(id: string, body: HeartbeatRequest): Promise<{ leaseExpiresAt: string; task: Task }> {
    return (
      await this.client.request<{ leaseExpiresAt: string; task: Task }>('POST', `${taskPath(id)}/heartbeat`, { body })
    ).body;
  }

  async complete(id: string, body: CompleteRequest): Promise<Task> {
    return (await this.client.request<Task>('POST', `${taskPath(id)}/complete`, { body })).body;
  }

  async fail(id: string, body: FailRequest): Promise<Task> {
    return (await this.client.request<Task>('POST', `${taskPath(id)}/fail`, { body })).body;
  }

  async release(id: string, body: ReleaseRequest): Promise<Task> {
    return (await this.client.request<Task>('POST', `${taskPath(id)}/release`, { body })).body;
  }

  /** Many reports in one request, each applied on its own, answered item by item in order. */
  async reports(reports: Report[]): Promise<ReportsResult['results']> {
    return (await this.client.request<ReportsResult>('POST', '/v1/tasks/reports', { body: { reports } })).body.results;
  }
}

export class TypesResource {
  constructor(private readonly client: TasklaneClient) {}

  /** Set a type's defaults, concurrency and rate limit (admin); fields left out are cleared. */
  async put(type: string, settings: TypeSettingsInput): Promise<TypeSettings> {
    return (await this.client.request<TypeSettings>('PUT', `/v1/types/${encodeURIComponent(type)}`, { body: settings }))
      .body;
  }

  async get(type: string): Promise<TypeSettings> {
    return (await this.client.request<TypeSettings>('GET', `/v1/types/${encodeURIComponent(type)}`)).body;
  }

  async list(): Promise<TypeSettings[]> {
    return (await this.client.request<Static<typeof TypeSettingsList>>('GET', '/v1/types')).body.items;
  }
}

export class InsightsResource {
  constructor(private readonly client: TasklaneClient) {}

  /** Counts by status and the dependency graph of one list. */
  async list(listId: string): Promise<ListView> {
    return (await this.client.request<ListView>('GET', `/v1/lists/${encodeURIComponent(listId)}`)).body;
  }

  /** Counts by status and type, oldest queued age, claims per minute. */
  async stats(): Promise<Stats> {
    return (await this.client.request<Stats>('GET', '/v1/stats')).body;
  }
}
