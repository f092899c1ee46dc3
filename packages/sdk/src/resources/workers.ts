/** The worker side of tasks (SPEC §5): claims, heartbeats and the reports that end an attempt. */
import { taskPath, type Requester } from '../request.js';
import type {
  ClaimRequest,
  CompleteRequest,
  FailRequest,
  HeartbeatRequest,
  ReleaseRequest,
  Report,
  ReportsResult,
  Task,
} from '../schemas/index.js';

export class WorkersResource {
  constructor(private readonly client: Requester) {}

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
