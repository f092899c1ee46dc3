/** Task type settings (SPEC §5): `PUT /v1/types/{type}` (admin), `GET /v1/types[/{type}]`. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TaskTypeName, TypeSettingsBody, TypeSettingsList, TypeSettingsSchema } from '@tasklane/sdk/schemas';
import type { TypeService } from '../../service/type-service.js';
import type { TypeConfig } from '../../storage/task-store.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { iso } from '../presenters.js';

const present = (c: TypeConfig) => ({
  type: c.type,
  concurrency: c.concurrency,
  rateLimit: c.rateLimit,
  defaults: c.defaults,
  updatedAt: iso(c.updatedAt),
});
const TypeParams = Type.Object({ type: TaskTypeName });

export const typeRoutes: FastifyPluginAsyncTypebox<{ types: TypeService }> = async (app, { types }) => {
  app.put(
    '/v1/types/:type',
    documented('PUT', {
      config: { scope: 'admin' },
      schema: {
        tags: ['workers'],
        summary: 'Set the defaults, concurrency and rate limit of a type (fields left out are cleared)',
        params: TypeParams,
        body: TypeSettingsBody,
        response: { 200: json(TypeSettingsSchema, 'The settings now') },
      },
    }),
    async (request) => {
      const b = request.body;
      return present(
        await types.put(principalOf(request).orgId, request.params.type, {
          concurrency: b.concurrency ?? null,
          rateLimit: b.rateLimit ?? null,
          defaults: b.defaults ?? {},
        }),
      );
    },
  );

  app.get(
    '/v1/types',
    documented('GET', {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['workers'],
        summary: 'List type settings',
        response: { 200: json(TypeSettingsList, 'The settings of every type that has some') },
      },
    }),
    async (request) => ({ items: (await types.list(principalOf(request).orgId)).map(present) }),
  );

  app.get(
    '/v1/types/:type',
    documented(
      'GET',
      {
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['workers'],
          summary: 'Get the settings of a type',
          params: TypeParams,
          response: { 200: json(TypeSettingsSchema, 'The settings') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request) => present(await types.get(principalOf(request).orgId, request.params.type)),
  );
};
