/** What an org's tasks look like as a whole: one list's graph, counts and claim rates. */
import type { Requester } from '../request.js';
import type { ListView, Stats, StatsParams } from '../schemas/index.js';

export class InsightsResource {
  constructor(private readonly client: Requester) {}

  /** Counts by status and the dependency graph of one list. */
  async list(listId: string): Promise<ListView> {
    return (await this.client.request<ListView>('GET', `/v1/lists/${encodeURIComponent(listId)}`)).body;
  }

  /** Counts by status and type, oldest queued age, claims per minute: of the org, or of `params.type` alone. */
  async stats(params: StatsParams = {}): Promise<Stats> {
    return (await this.client.request<Stats>('GET', '/v1/stats', { query: params })).body;
  }
}
