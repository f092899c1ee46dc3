/** `GET /v1/whoami`: the key that made the request (id, name, org, scopes), for any valid key. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WhoamiSchema } from '@tasklane/sdk/schemas';
import { SCOPES } from '../../domain/scope.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';

export const whoamiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/whoami',
    documented('GET', {
      // Every key has at least one scope, so naming them all admits any valid key (and still
      // authenticates and rate-limits the request like every other).
      config: { scope: SCOPES },
      schema: {
        tags: ['admin'],
        summary: 'The key making this request: its id, name, org and scopes (never its secret)',
        response: { 200: json(WhoamiSchema, 'The key of the request') },
      },
    }),
    async (request) => {
      const p = principalOf(request);
      return { keyId: p.keyId, name: p.keyName, orgId: p.orgId, scopes: [...p.scopes] };
    },
  );
};
