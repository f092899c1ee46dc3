/** Webhook endpoints of the caller's org, their delivery log, and the org's callback secret (admin). */
import type { Static } from '@sinclair/typebox';
import type { Requester } from '../request.js';
import type {
  CallbackSecretSchema,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookListSchema,
  WebhookPatch,
  WebhookPatchedSchema,
  WebhookWithSecret,
} from '../schemas/index.js';

/** A PATCH answer: `secret` only when `rotateSecret` was asked for. */
export type WebhookPatched = Static<typeof WebhookPatchedSchema>;

const hookPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;

export class WebhooksResource {
  constructor(private readonly client: Requester) {}

  /** Register an endpoint; its signing `secret` (`whsec_…`) is in this answer only. */
  async create(body: WebhookCreate): Promise<WebhookWithSecret> {
    return (await this.client.request<WebhookWithSecret>('POST', '/v1/webhooks', { body })).body;
  }

  /** Every endpoint of the org, oldest first, never a secret. */
  async list(): Promise<Webhook[]> {
    return (await this.client.request<Static<typeof WebhookListSchema>>('GET', '/v1/webhooks')).body.items;
  }

  async get(id: string): Promise<Webhook> {
    return (await this.client.request<Webhook>('GET', hookPath(id))).body;
  }

  /**
   * Change filters or the URL, enable or disable (enabling clears `disabledReason`), or rotate the
   * secret (`rotateSecret: true`: the answer carries the new one; the old one signs beside it for 24 h).
   */
  async update(id: string, body: WebhookPatch): Promise<WebhookPatched> {
    return (await this.client.request<WebhookPatched>('PATCH', hookPath(id), { body })).body;
  }

  /** Delete the endpoint and its deliveries. */
  async delete(id: string): Promise<void> {
    await this.client.request<undefined>('DELETE', hookPath(id));
  }

  /** A page of the endpoint's deliveries, newest first; pass `nextAfter` as `after` for older ones. */
  async deliveries(id: string, params: { limit?: number; after?: string } = {}): Promise<WebhookDeliveryPage> {
    return (
      await this.client.request<WebhookDeliveryPage>('GET', `${hookPath(id)}/deliveries`, {
        query: { limit: params.limit, after: params.after },
      })
    ).body;
  }

  /** Send a delivery again now, with the same `webhook-id`; answers it as queued. */
  async retryDelivery(id: string, deliveryId: string): Promise<WebhookDelivery> {
    const path = `${hookPath(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`;
    return (await this.client.request<WebhookDelivery>('POST', path)).body;
  }

  /** The org's callback secret, which signs tasks' `callbackUrl` deliveries (made on first use). */
  async callbackSecret(): Promise<string> {
    const res = await this.client.request<Static<typeof CallbackSecretSchema>>('GET', '/v1/webhooks/callback-secret');
    return res.body.secret;
  }
}
