/**
 * Webhooks (docs/webhooks.md), scope admin: endpoints (a secret shown at creation and rotation
 * only), their delivery log and redelivery, a task's deliveries and their redelivery (callbacks
 * included), and the org's callback secret.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CallbackSecretSchema,
  DeliveryListSchema,
  DeliveryPageSchema,
  DeliveryQuery,
  DeliverySchema,
  WebhookCreateBody,
  WebhookListSchema,
  WebhookPatchBody,
  WebhookPatchedSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from '@tasklane/sdk/schemas';
import type { Delivery, WebhookEndpoint } from '../../storage/webhook-store.js';
import type { WebhookService } from '../../service/webhook-service.js';
import { principalOf } from '../auth.js';
import { documented, json, noBody } from '../openapi-answers.js';
import { iso, isoOrNull } from '../presenters.js';

export const presentWebhook = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  events: e.events,
  taskTypes: e.taskTypes,
  listId: e.listId,
  description: e.description,
  enabled: e.enabled,
  disabledReason: e.disabledReason,
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

export const presentDelivery = (d: Delivery) => ({
  id: d.id,
  webhookId: d.webhookId,
  url: d.url,
  eventId: d.event.id,
  eventType: d.event.type,
  taskId: d.event.taskId,
  status: d.status,
  attempts: d.attempts.map((a) => ({ ...a, at: iso(a.at) })),
  nextAttemptAt: isoOrNull(d.status === 'pending' ? d.nextAttemptAt : null),
  createdAt: iso(d.createdAt),
});

const WebhookParams = Type.Object({ webhookId: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryParams = Type.Object({
  webhookId: Type.String({ minLength: 1, maxLength: 64 }),
  deliveryId: Type.String({ minLength: 1, maxLength: 64 }),
});
const TaskRef = Type.String({ minLength: 1, maxLength: 64, description: 'UUID or identifier (OPS-42)' });
const TaskParams = Type.Object({ taskId: TaskRef });
const TaskDeliveryParams = Type.Object({
  taskId: TaskRef,
  deliveryId: Type.String({ minLength: 1, maxLength: 64 }),
});
const admin = { scope: 'admin' } as const;
const tags = ['webhooks'];

export const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  app.post(
    '/v1/webhooks',
    documented(
      'POST',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Register a webhook endpoint (its secret is shown once)',
          body: WebhookCreateBody,
          response: { 201: json(WebhookWithSecretSchema, 'Created, with its signing secret (shown once)') },
        },
      },
      ['VALIDATION_FAILED', 'URL_NOT_ALLOWED'],
    ),
    async (request, reply) => {
      const e = await webhooks.create(principalOf(request).orgId, request.body);
      return reply.code(201).send({ ...presentWebhook(e), secret: e.secret });
    },
  );

  app.get(
    '/v1/webhooks',
    documented('GET', {
      config: admin,
      schema: {
        tags,
        summary: 'List the webhook endpoints of the org (never their secrets)',
        response: { 200: json(WebhookListSchema, 'The endpoints, oldest first') },
      },
    }),
    async (request) => ({ items: (await webhooks.list(principalOf(request).orgId)).map(presentWebhook) }),
  );

  app.get(
    '/v1/webhooks/callback-secret',
    documented('GET', {
      config: admin,
      schema: {
        tags,
        summary: "The org's callback secret, which signs tasks' callbacks (created on first use)",
        response: { 200: json(CallbackSecretSchema, "The org's callback secret") },
      },
    }),
    async (request) => ({ secret: await webhooks.callbackSecret(principalOf(request).orgId) }),
  );

  app.get(
    '/v1/webhooks/:webhookId',
    documented(
      'GET',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Get a webhook endpoint',
          params: WebhookParams,
          response: { 200: json(WebhookSchema, 'The endpoint') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request) => presentWebhook(await webhooks.get(principalOf(request).orgId, request.params.webhookId)),
  );

  app.patch(
    '/v1/webhooks/:webhookId',
    documented(
      'PATCH',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Change, enable or disable an endpoint, or rotate its secret',
          description:
            'With `rotateSecret: true` the answer carries the new secret (shown once); the previous one keeps ' +
            'signing beside it for 24 h. Enabling an endpoint clears its disabledReason. A change made meanwhile ' +
            '(the endpoint disabled by its failures, another rotation) is kept: the patch applies on top of it, ' +
            'or answers 409 CONFLICT if the endpoint keeps changing.',
          params: WebhookParams,
          body: WebhookPatchBody,
          response: { 200: json(WebhookPatchedSchema, 'The endpoint as changed (with `secret` when rotated)') },
        },
      },
      ['VALIDATION_FAILED', 'URL_NOT_ALLOWED', 'NOT_FOUND', 'CONFLICT'],
    ),
    async (request) => {
      const { endpoint, rotated } = await webhooks.update(
        principalOf(request).orgId,
        request.params.webhookId,
        request.body,
      );
      return rotated ? { ...presentWebhook(endpoint), secret: endpoint.secret } : presentWebhook(endpoint);
    },
  );

  app.delete(
    '/v1/webhooks/:webhookId',
    documented(
      'DELETE',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Delete an endpoint and its deliveries',
          params: WebhookParams,
          response: { 204: noBody('Deleted. No body.') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request, reply) => {
      await webhooks.remove(principalOf(request).orgId, request.params.webhookId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:webhookId/deliveries',
    documented(
      'GET',
      {
        config: admin,
        schema: {
          tags,
          summary: "An endpoint's deliveries, newest first, with every attempt",
          params: WebhookParams,
          querystring: DeliveryQuery,
          response: { 200: json(DeliveryPageSchema, 'A page of deliveries') },
        },
      },
      ['VALIDATION_FAILED', 'NOT_FOUND'],
    ),
    async (request) => {
      const { limit = 20, after } = request.query;
      const page = await webhooks.deliveries(
        principalOf(request).orgId,
        request.params.webhookId,
        limit,
        after ?? null,
      );
      return { items: page.items.map(presentDelivery), nextAfter: page.nextAfter };
    },
  );

  app.post(
    '/v1/webhooks/:webhookId/deliveries/:deliveryId/retry',
    documented(
      'POST',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Send a delivery again now (same webhook-id)',
          params: DeliveryParams,
          response: { 202: json(DeliverySchema, 'Queued again') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request, reply) => {
      const { webhookId, deliveryId } = request.params;
      const d = await webhooks.retry(principalOf(request).orgId, webhookId, deliveryId);
      return reply.code(202).send(presentDelivery(d));
    },
  );

  app.get(
    '/v1/tasks/:taskId/deliveries',
    documented(
      'GET',
      {
        config: admin,
        schema: {
          tags,
          summary: "A task's webhook and callback deliveries, newest first (the last 100)",
          description:
            "A deleted task's deliveries stay listed under its UUID until they are pruned; an identifier " +
            'names a task that exists.',
          params: TaskParams,
          response: { 200: json(DeliveryListSchema, "The task's deliveries") },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request) => ({
      items: (await webhooks.taskDeliveries(principalOf(request).orgId, request.params.taskId)).map(presentDelivery),
    }),
  );

  app.post(
    '/v1/tasks/:taskId/deliveries/:deliveryId/retry',
    documented(
      'POST',
      {
        config: admin,
        schema: {
          tags,
          summary: "Send one of a task's deliveries again now, an endpoint's or its callback's (same webhook-id)",
          params: TaskDeliveryParams,
          response: { 202: json(DeliverySchema, 'Queued again') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request, reply) => {
      const { taskId, deliveryId } = request.params;
      const d = await webhooks.retryTaskDelivery(principalOf(request).orgId, taskId, deliveryId);
      return reply.code(202).send(presentDelivery(d));
    },
  );
};
