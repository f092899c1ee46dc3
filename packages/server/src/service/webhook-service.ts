/**
 * Webhook use cases (docs/webhooks.md): an org's endpoints (secrets shown once, at creation and
 * rotation), their delivery log and redelivery, a task's deliveries, and the org's callback secret.
 * URLs are checked against the address rules (webhook-address.ts) before anything is stored.
 */
import type { EventType } from '@tasklane/sdk/vocabulary';
import type { Clock } from '../domain/clock.js';
import { TasklaneError } from '../domain/errors.js';
import type { TaskStore } from '../storage/task-store.js';
import type { Delivery, WebhookEndpoint } from '../storage/webhook-store.js';
import { randomBase62, UUID_PATTERN } from './ids.js';
import { findTask } from './task-lookup.js';
import { checkTargetUrl, systemResolver, type AddressPolicy } from './webhook-address.js';
import { newWebhookSecret } from './webhook-dispatcher.js';

export interface WebhookInput {
  url: string;
  events: EventType[];
  taskTypes?: string[];
  listId?: string;
  description?: string;
}

export interface WebhookPatch {
  enabled?: boolean;
  url?: string;
  events?: EventType[];
  taskTypes?: string[] | null;
  listId?: string | null;
  description?: string | null;
  rotateSecret?: true;
}

/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_MS = 24 * 3600_000;
/** A task's deliveries, newest first, at most this many. */
export const TASK_DELIVERIES_LIMIT = 100;

export interface WebhookServiceOptions {
  allowPrivate?: boolean;
  resolve?: AddressPolicy['resolve'];
  /** Told when a delivery is queued again (the dispatcher's wake). */
  onQueued?: () => void;
}

const notFound = (what: string) => new TasklaneError('NOT_FOUND', `No ${what} in this org.`);

export class WebhookService {
  private readonly policy: AddressPolicy;

  constructor(
    private readonly store: TaskStore,
    private readonly clock: Clock,
    private readonly opts: WebhookServiceOptions = {},
  ) {
    this.policy = { allowPrivate: opts.allowPrivate ?? false, resolve: opts.resolve ?? systemResolver };
  }

  /** Throws URL_NOT_ALLOWED (naming the rule) for a URL deliveries may not go to. */
  checkUrl(url: string, path: string): Promise<void> {
    return checkTargetUrl(url, path, this.policy);
  }

  async create(orgId: string, input: WebhookInput): Promise<WebhookEndpoint> {
    await this.checkUrl(input.url, '/url');
    const now = this.clock.now();
    const endpoint: WebhookEndpoint = {
      orgId,
      id: `wh_${randomBase62(20)}`,
      url: input.url,
      events: input.events,
      taskTypes: input.taskTypes ?? null,
      listId: input.listId ?? null,
      description: input.description ?? null,
      enabled: true,
      disabledReason: null,
      secret: newWebhookSecret(),
      previousSecret: null,
      previousSecretUntil: null,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.webhooks.insertEndpoint(endpoint);
    return endpoint;
  }

  list(orgId: string): Promise<WebhookEndpoint[]> {
    return this.store.webhooks.listEndpoints(orgId);
  }

  async get(orgId: string, id: string): Promise<WebhookEndpoint> {
    return (await this.store.webhooks.getEndpoint(orgId, id)) ?? Promise.reject(notFound('such webhook'));
  }

  /** The endpoint as patched; `rotated` when the secret was rotated (shown this once). */
  async update(
    orgId: string,
    id: string,
    patch: WebhookPatch,
  ): Promise<{ endpoint: WebhookEndpoint; rotated: boolean }> {
    if (patch.url !== undefined) await this.checkUrl(patch.url, '/url');
    // Compare-and-set (updateEndpoint): the dispatcher may disable the endpoint, or another PATCH
    // rotate its secret, between the read and the write; then read again and apply the patch anew.
    for (let tries = 0; ; tries++) {
      const e = await this.get(orgId, id);
      const next = this.patched(e, patch);
      if (await this.store.webhooks.updateEndpoint(next, e))
        return { endpoint: next, rotated: patch.rotateSecret === true };
      if (tries >= 4)
        throw new TasklaneError('CONFLICT', 'The webhook kept changing while it was being updated; try again.');
    }
  }

  private patched(e: WebhookEndpoint, patch: WebhookPatch): WebhookEndpoint {
    const now = this.clock.now();
    const next: WebhookEndpoint = { ...e, updatedAt: now };
    if (patch.url !== undefined) next.url = patch.url;
    if (patch.events !== undefined) next.events = patch.events;
    if (patch.taskTypes !== undefined) next.taskTypes = patch.taskTypes;
    if (patch.listId !== undefined) next.listId = patch.listId;
    if (patch.description !== undefined) next.description = patch.description;
    if (patch.enabled !== undefined) {
      next.enabled = patch.enabled;
      // Re-enabled: its failing streak starts afresh, and the reason it was disabled goes.
      next.disabledReason = patch.enabled ? null : 'Disabled by an admin.';
      if (patch.enabled) next.failingSince = null;
    }
    if (patch.rotateSecret === true) {
      next.previousSecret = e.secret;
      next.previousSecretUntil = now + PREVIOUS_SECRET_MS;
      next.secret = newWebhookSecret();
    }
    return next;
  }

  async remove(orgId: string, id: string): Promise<void> {
    if (!(await this.store.webhooks.deleteEndpoint(orgId, id))) throw notFound('such webhook');
  }

  /** An endpoint's deliveries, newest first; `nextAfter` when more may follow. */
  async deliveries(
    orgId: string,
    webhookId: string,
    limit: number,
    after: string | null,
  ): Promise<{ items: Delivery[]; nextAfter: string | null }> {
    await this.get(orgId, webhookId);
    const items = await this.store.webhooks.listDeliveries(orgId, { webhookId }, limit + 1, after);
    const more = items.length > limit;
    const page = more ? items.slice(0, limit) : items;
    return { items: page, nextAfter: more ? (page[page.length - 1]?.id ?? null) : null };
  }

  /**
   * A task's deliveries (its endpoints' and its callback's), newest first, the last 100. The task
   * is named by UUID or identifier (`OPS-42`), as on every /v1/tasks/{taskId} route.
   */
  async taskDeliveries(orgId: string, taskRef: string): Promise<Delivery[]> {
    const taskId = await this.taskIdOf(orgId, taskRef);
    return this.store.webhooks.listDeliveries(orgId, { taskId }, TASK_DELIVERIES_LIMIT, null);
  }

  /** An endpoint's delivery, sent again now with the same id; NOT_FOUND unless it is that endpoint's. */
  async retry(orgId: string, webhookId: string, deliveryId: string): Promise<Delivery> {
    const d = await this.store.webhooks.getDelivery(orgId, deliveryId);
    if (d === null || d.webhookId !== webhookId) throw notFound('such delivery of this webhook');
    return this.requeue(orgId, deliveryId, 'such delivery of this webhook');
  }

  /** Any delivery of a task (an endpoint's or its callback's), sent again now with the same id. */
  async retryTaskDelivery(orgId: string, taskRef: string, deliveryId: string): Promise<Delivery> {
    const taskId = await this.taskIdOf(orgId, taskRef);
    const d = await this.store.webhooks.getDelivery(orgId, deliveryId);
    if (d === null || d.event.taskId !== taskId) throw notFound('such delivery of this task');
    return this.requeue(orgId, deliveryId, 'such delivery of this task');
  }

  callbackSecret(orgId: string): Promise<string> {
    return this.store.webhooks.callbackSecret(orgId, newWebhookSecret());
  }

  /**
   * Pending and due now, then the dispatcher is woken. Null from the store: the delivery went
   * between the read and this write (its endpoint deleted, or pruned), so it is not found either.
   */
  private async requeue(orgId: string, deliveryId: string, what: string): Promise<Delivery> {
    const queued = await this.store.webhooks.retryDelivery(orgId, deliveryId);
    if (queued === null) throw notFound(what);
    this.opts.onQueued?.();
    return queued;
  }

  /**
   * The id of the task a path names. A UUID is taken as it is, without reading the task: a
   * deleted task's deliveries (its `task.deleted` one among them) outlive it and stay reachable.
   * An identifier names a task that exists; an unknown one, or a reference of neither shape, is
   * the usual NOT_FOUND of a task.
   */
  private async taskIdOf(orgId: string, ref: string): Promise<string> {
    if (UUID_PATTERN.test(ref)) return ref.toLowerCase();
    return (await this.store.read((tx) => findTask(tx, orgId, ref))).id;
  }
}
