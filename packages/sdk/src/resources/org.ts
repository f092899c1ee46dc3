/** The caller's own org (SPEC §2, §7): its name and the defaults its new tasks take. */
import type { Requester } from '../request.js';
import type { OrgInfo, OrgUpdate } from '../schemas/index.js';

export class OrgResource {
  constructor(private readonly client: Requester) {}

  /** The org of the key (needs `tasks:read`); a default of null is the built-in one. */
  async get(): Promise<OrgInfo> {
    return (await this.client.request<OrgInfo>('GET', '/v1/org')).body;
  }

  /**
   * Change the name or defaults (needs `admin`): fields left out stay, a default set to null goes
   * back to the built-in one. New tasks take the new defaults; tasks that exist keep theirs.
   */
  async update(body: OrgUpdate): Promise<OrgInfo> {
    return (await this.client.request<OrgInfo>('PATCH', '/v1/org', { body })).body;
  }
}
