/** The caller's org (SPEC §2, §7): `GET /v1/org` (tasks:read), `PATCH /v1/org` (admin). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OrgSchema, OrgUpdateBody } from '@tasklane/sdk/schemas';
import type { OrgService } from '../../service/org-service.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { presentOrg } from '../presenters.js';

export const orgRoutes: FastifyPluginAsyncTypebox<{ org: OrgService }> = async (app, { org }) => {
  app.get(
    '/v1/org',
    documented('GET', {
      // Like the type settings: a key that reads tasks may see the defaults they were made with.
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['admin'],
        summary: "The key's org and the defaults its new tasks take",
        response: { 200: json(OrgSchema, 'The org') },
      },
    }),
    async (request) => presentOrg(await org.get(principalOf(request).orgId)),
  );

  app.patch(
    '/v1/org',
    documented('PATCH', {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: "Change the org's name or defaults (fields left out stay; null: the built-in default)",
        body: OrgUpdateBody,
        response: { 200: json(OrgSchema, 'The org, changed') },
      },
    }),
    async (request) => presentOrg(await org.update(principalOf(request).orgId, request.body)),
  );
};
