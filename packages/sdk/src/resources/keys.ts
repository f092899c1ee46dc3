/** API keys of the caller's org (SPEC §8). */
import type { Static } from '@sinclair/typebox';
import type { Requester } from '../request.js';
import type { KeyCreate, KeyInfo, KeyListSchema, KeyWithSecret, Whoami } from '../schemas/index.js';

export class KeysResource {
  constructor(private readonly client: Requester) {}

  /** A new key of the caller's org; `secret` is in this answer only. */
  async create(body: KeyCreate): Promise<KeyWithSecret> {
    return (await this.client.request<KeyWithSecret>('POST', '/v1/keys', { body })).body;
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.client.request<Static<typeof KeyListSchema>>('GET', '/v1/keys')).body.items;
  }

  /** The key this client uses: its id, name, org and scopes (any valid key may ask). */
  async whoami(): Promise<Whoami> {
    return (await this.client.request<Whoami>('GET', '/v1/whoami')).body;
  }

  /**
   * Revoke at once: the next request with that key answers 401. Refused (409) for the calling key
   * itself (`KEY_IS_CALLER`) and for the org's last admin key (`LAST_ADMIN_KEY`).
   */
  async revoke(id: string): Promise<void> {
    await this.client.request<undefined>('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }
}
