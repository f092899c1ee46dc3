/**
 * The wire schemas of webhooks (docs/webhooks.md): endpoints, their deliveries, and the org's
 * callback secret. The server documents and validates with them; this SDK takes its types from them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EventTypeSchema } from './events.js';

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC with milliseconds' });
const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http or https, to a public address' });
const Events = Type.Array(EventTypeSchema, { minItems: 1, maxItems: 6, uniqueItems: true });
const TaskTypes = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  minItems: 1,
  maxItems: 100,
  uniqueItems: true,
});
const Secret = Type.String({ pattern: '^whsec_', description: 'The signing secret (shown once)' });

export const WebhookCreateBody = Type.Object(
  {
    url: Url,
    events: Events,
    taskTypes: Type.Optional(TaskTypes),
    listId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const WebhookPatchBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    taskTypes: Type.Optional(OrNull(TaskTypes)),
    listId: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 200 }))),
    description: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    rotateSecret: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false, minProperties: 1 },
);

const endpointProperties = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(EventTypeSchema),
  taskTypes: OrNull(Type.Array(Type.String())),
  listId: OrNull(Type.String()),
  description: OrNull(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: OrNull(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const WebhookSchema = Type.Object(endpointProperties);
/** An endpoint as created or rotated: with its secret, shown this once. */
export const WebhookWithSecretSchema = Type.Object({ ...endpointProperties, secret: Secret });
/** A PATCH answer: the secret only when it was rotated. */
export const WebhookPatchedSchema = Type.Object({ ...endpointProperties, secret: Type.Optional(Secret) });
export const WebhookListSchema = Type.Object({ items: Type.Array(WebhookSchema) });

export const DeliveryAttemptSchema = Type.Object({
  at: Timestamp,
  httpStatus: OrNull(Type.Integer()),
  durationMs: Type.Integer({ minimum: 0 }),
  error: OrNull(Type.String()),
});

export const DeliverySchema = Type.Object({
  id: Type.String({ description: 'The webhook-id header, the same on every attempt' }),
  webhookId: OrNull(Type.String({ description: "null: a task's callback" })),
  url: Type.String(),
  eventId: Type.Integer({ minimum: 1 }),
  eventType: EventTypeSchema,
  taskId: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Array(DeliveryAttemptSchema),
  nextAttemptAt: OrNull(Timestamp),
  createdAt: Timestamp,
});

export const DeliveryPageSchema = Type.Object({
  items: Type.Array(DeliverySchema),
  nextAfter: OrNull(Type.String({ description: 'Pass as `after` for the next (older) page' })),
});
export const DeliveryListSchema = Type.Object({ items: Type.Array(DeliverySchema) });

export const DeliveryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const CallbackSecretSchema = Type.Object({ secret: Secret });

export type WebhookCreate = Static<typeof WebhookCreateBody>;
export type WebhookPatch = Static<typeof WebhookPatchBody>;
export type Webhook = Static<typeof WebhookSchema>;
export type WebhookWithSecret = Static<typeof WebhookWithSecretSchema>;
export type WebhookDelivery = Static<typeof DeliverySchema>;
export type WebhookDeliveryPage = Static<typeof DeliveryPageSchema>;
