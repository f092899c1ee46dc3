/** Orgs (SPEC §8): made with a root key. */
import type { Requester } from '../request.js';
import type { OrgCreate, OrgCreated } from '../schemas/index.js';

export class OrgsResource {
  constructor(private readonly client: Requester) {}

  /** Needs a root key; answers the org and its first admin key, secret included (once). */
  async create(body: OrgCreate): Promise<OrgCreated> {
    return (await this.client.request<OrgCreated>('POST', '/v1/orgs', { body })).body;
  }
}
