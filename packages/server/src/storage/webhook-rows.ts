/**
 * Webhook records ↔ rows, for both adapters: the column lists and one set of mappers, built per
 * driver over its RowCodec (JSON columns: text in SQLite, parsed in PostgreSQL, where `events` and
 * `task_types` are text[]; `enabled`: 0/1 or a boolean), as rows.ts does for the other records.
 */
import type { EventType } from '@tasklane/sdk/vocabulary';
import type { Json } from '../domain/task.js';
import type { RowCodec } from './task-columns.js';
import type { Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint } from './webhook-store.js';

export const ENDPOINT_COLUMNS =
  'org_id, id, url, events, task_types, list_id, description, enabled, disabled_reason, secret, ' +
  'previous_secret, previous_secret_until, failing_since, created_at, updated_at';
export const DELIVERY_COLUMNS =
  'org_id, id, webhook_id, url, event_id, event_type, task_id, event_time, data, status, attempts, ' +
  'next_attempt_at, created_at';

/** JSON columns (`events`, `task_types`, `data`, `attempts`) and `enabled` as the driver gives them. */
export interface EndpointRow {
  org_id: string;
  id: string;
  url: string;
  events: unknown;
  task_types: unknown;
  list_id: string | null;
  description: string | null;
  enabled: unknown;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  org_id: string;
  id: string;
  /** '' for a task's callback. */
  webhook_id: string;
  url: string;
  event_id: number;
  event_type: string;
  task_id: string;
  event_time: number;
  data: unknown;
  status: string;
  attempts: unknown;
  next_attempt_at: number | null;
  created_at: number;
}

export interface WebhookRowMappers {
  endpoint(r: EndpointRow): WebhookEndpoint;
  delivery(r: DeliveryRow): Delivery;
}

export function webhookRowMappers(codec: RowCodec): WebhookRowMappers {
  return {
    endpoint: (r) => ({
      orgId: r.org_id,
      id: r.id,
      url: r.url,
      events: codec.json(r.events) as EventType[],
      taskTypes: codec.json(r.task_types) as string[] | null,
      listId: r.list_id,
      description: r.description,
      enabled: codec.bool(r.enabled),
      disabledReason: r.disabled_reason,
      secret: r.secret,
      previousSecret: r.previous_secret,
      previousSecretUntil: r.previous_secret_until,
      failingSince: r.failing_since,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
    delivery: (r) => ({
      orgId: r.org_id,
      id: r.id,
      webhookId: r.webhook_id === '' ? null : r.webhook_id,
      url: r.url,
      event: {
        id: r.event_id,
        type: r.event_type as EventType,
        taskId: r.task_id,
        time: r.event_time,
        data: codec.json(r.data) as Json,
      },
      status: r.status as DeliveryStatus,
      attempts: codec.json(r.attempts) as DeliveryAttempt[],
      nextAttemptAt: r.next_attempt_at,
      createdAt: r.created_at,
    }),
  };
}
