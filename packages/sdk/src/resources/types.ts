/** Task type settings (SPEC §5 `/v1/types`): defaults, concurrency and rate limits. */
import type { Static } from '@sinclair/typebox';
import type { Requester } from '../request.js';
import type { Throughput, TypeSettings, TypeSettingsInput, TypeSettingsList } from '../schemas/index.js';

export class TypesResource {
  constructor(private readonly client: Requester) {}

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

  /** Completed and failed tasks of the type per minute, over the last `minutes` (default 60). */
  async throughput(type: string, opts: { minutes?: number } = {}): Promise<Throughput> {
    return (
      await this.client.request<Throughput>('GET', `/v1/types/${encodeURIComponent(type)}/throughput`, {
        query: { minutes: opts.minutes },
      })
    ).body;
  }
}
