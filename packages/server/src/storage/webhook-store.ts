/**
 * The webhook part of the storage contract (docs/webhooks.md): endpoints, the org's callback
 * secret, per-task callbacks and the delivery outbox. Each method is a unit of work of its own.
 *
 * The outbox is not written through this interface: every adapter fills it in the statement that
 * writes an event (SQLite: a trigger on events; PostgreSQL: the events' own INSERT), one delivery
 * per event and matching enabled endpoint, and one per event a task's callback asks for. So a
 * delivery commits exactly when its event does, and an org without endpoints (a task without a
 * callback) pays no extra statement on the hot path. That statement also tells whether it wrote a
 * delivery (SQLite: the trigger calls back into the store; PostgreSQL: the statement returns the
 * count and NOTIFYs other nodes only then), so `onDeliveries` wakes the dispatcher for those
 * commits only: a busy org without endpoints costs the dispatcher nothing but its poll.
 *
 * Times are epoch milliseconds from the store's clock, as in task-store.ts.
 */
import type { EventType } from '@tasklane/sdk/vocabulary';
import type { Json } from '../domain/task.js';

export interface WebhookEndpoint {
  orgId: string;
  id: string;
  url: string;
  events: EventType[];
  /** null: every task type. */
  taskTypes: string[] | null;
  listId: string | null;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  secret: string;
  /** After a rotation, the previous secret keeps signing until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: number | null;
  /** Since when every attempt failed (null: the last attempt succeeded, or none ran yet). */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A task's callback, written with the task by create. `events` null: its terminal status change only. */
export interface TaskCallback {
  orgId: string;
  taskId: string;
  url: string;
  events: EventType[] | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  at: number;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
}

/** The event a delivery carries, as written (its body is this event's JSON). */
export interface DeliveredEvent {
  id: number;
  type: EventType;
  taskId: string;
  time: number;
  data: Json;
}

export interface Delivery {
  orgId: string;
  /** Its `webhook-id` header: the same on every attempt. */
  id: string;
  /** null: a task's callback. */
  webhookId: string | null;
  url: string;
  event: DeliveredEvent;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  nextAttemptAt: number | null;
  createdAt: number;
}

/** A delivery the dispatcher holds under a lease (claimDeliveries). */
export interface ClaimedDelivery extends Delivery {
  leaseToken: string;
  /** The store's time of the claim. */
  claimedAt: number;
}

/** What one attempt came to, for finishAttempt. */
export interface AttemptResult {
  attempt: DeliveryAttempt;
  /** 'delivered', or for a failed attempt: retry in `retryInMs`, or give up ('failed'). */
  outcome: 'delivered' | 'retry' | 'failed';
  retryInMs?: number;
  /** The URL attempted (an endpoint's may have changed since the delivery was written). */
  url: string;
  /** An endpoint failing everything since this long ago is disabled with this reason. */
  disableAfterMs: number;
  disableReason: string;
}

export interface WebhookStore {
  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null>;
  /** Oldest first. */
  listEndpoints(orgId: string): Promise<WebhookEndpoint[]>;
  /**
   * Writes every field but orgId, id and createdAt, only if the fields others change behind a
   * caller's back (enabled, secret, failingSince: the dispatcher's streak and disabling, another
   * rotation) are still as in `read`, the endpoint the caller read and changed: compare-and-set.
   * False when there is no such endpoint or it changed so; read it again and retry.
   */
  updateEndpoint(endpoint: WebhookEndpoint, read: WebhookEndpoint): Promise<boolean>;
  /** Deletes the endpoint and its deliveries; false when there was none. */
  deleteEndpoint(orgId: string, id: string): Promise<boolean>;

  /** The org's callback secret; `fresh` becomes it when the org has none yet (first use). */
  callbackSecret(orgId: string, fresh: string): Promise<string>;

  getDelivery(orgId: string, id: string): Promise<Delivery | null>;
  /**
   * Deliveries of one endpoint or one task, newest first (event id descending), at most `limit`,
   * after the delivery `after` (its id) when given.
   */
  listDeliveries(
    orgId: string,
    filter: { webhookId: string } | { taskId: string },
    limit: number,
    after: string | null,
  ): Promise<Delivery[]>;
  /** Makes the delivery pending and due now (same id, attempts kept); null when there is none. */
  retryDelivery(orgId: string, id: string): Promise<Delivery | null>;

  /**
   * Across orgs, for the dispatcher: up to `limit` pending deliveries due now, each leased for
   * `leaseMs` (another claim skips it until the lease ends, so a killed node's claims come back).
   * A delivery is never claimed while an earlier one (lower event id) of the same task to the same
   * target is still pending: a task's deliveries to one endpoint go in event order.
   */
  claimDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt if the lease is still this one (false otherwise: it expired and another
   * node took the delivery). A delivered attempt clears the endpoint's failingSince; a failed one
   * sets it when unset and disables the endpoint when it is older than `disableAfterMs`.
   */
  finishAttempt(delivery: ClaimedDelivery, result: AttemptResult): Promise<boolean>;
  /**
   * Gives a claimed delivery back, due as it was, without recording an attempt, if the lease is
   * still this one (false otherwise): for an attempt cut by a shutdown, so that the delivery is
   * sent again promptly (by another node, or after the restart) rather than once its lease ends.
   */
  releaseDelivery(delivery: ClaimedDelivery): Promise<boolean>;
  /**
   * Called when deliveries may have become due: after a unit of this store that wrote deliveries
   * commits, after retryDelivery, and (PostgreSQL) when another node announces either. Never for
   * a unit that wrote none. Like subscribe, it may be late or lost (a dropped LISTEN connection):
   * the dispatcher polls as well.
   */
  onDeliveries(listener: () => void): () => void;
  /** Pending deliveries of every org (the outbox backlog, for metrics). */
  countPendingDeliveries(): Promise<number>;
  /**
   * Retention, across orgs: deletes at most `limit` delivered or failed deliveries created before
   * `before`, and the callbacks of tasks that are gone. Returns how many deliveries went.
   */
  pruneDeliveries(before: number, limit: number): Promise<number>;
}
