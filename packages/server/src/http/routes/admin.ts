/** Orgs (root) and API keys (admin), SPEC §8. Secrets are shown once, at creation; lists never show them. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  KeyCreateBody,
  KeyListSchema,
  KeyWithSecretSchema,
  OrgCreateBody,
  OrgCreatedSchema,
} from '@tasklane/sdk/schemas';
import type { AuthService, CreatedKey } from '../../service/auth-service.js';
import { principalOf } from '../auth.js';
import { documented, json, noBody } from '../openapi-answers.js';
import { iso, isoOrNull, presentKey, presentOrg } from '../presenters.js';

const withSecret = ({ key, secret }: CreatedKey) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  secret,
  createdAt: iso(key.createdAt),
  expiresAt: isoOrNull(key.expiresAt),
});

export const adminRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (app, { auth }) => {
  app.post(
    '/v1/orgs',
    documented(
      'POST',
      {
        config: { scope: 'root' },
        schema: {
          tags: ['admin'],
          summary: 'Create an org and its first admin key',
          body: OrgCreateBody,
          response: { 201: json(OrgCreatedSchema, 'Created, with its first admin key (the secret is shown once)') },
        },
      },
      ['CONFLICT'],
    ),
    async (request, reply) => {
      const { org, adminKey } = await auth.createOrg(request.body);
      return reply.code(201).send({ org: presentOrg(org), adminKey: withSecret(adminKey) });
    },
  );

  app.post(
    '/v1/keys',
    documented(
      'POST',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Create an API key (the secret is shown once)',
          body: KeyCreateBody,
          response: { 201: json(KeyWithSecretSchema, 'Created (the secret is shown once)') },
        },
      },
      ['FORBIDDEN', 'VALIDATION_FAILED'],
    ),
    async (request, reply) => {
      const { name, scopes, expiresAt } = request.body;
      const created = await auth.createKey(principalOf(request), {
        name,
        scopes,
        ...(expiresAt === undefined ? {} : { expiresAt: Date.parse(expiresAt) }),
      });
      return reply.code(201).send(withSecret(created));
    },
  );

  app.get(
    '/v1/keys',
    documented('GET', {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'List the keys of the org (never their secrets)',
        response: { 200: json(KeyListSchema, 'The keys of the org, without their secrets') },
      },
    }),
    async (request) => ({ items: (await auth.listKeys(principalOf(request).orgId)).map(presentKey) }),
  );

  app.delete(
    '/v1/keys/:keyId',
    documented(
      'DELETE',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Revoke a key, at once (not the calling key, nor the last admin key of the org)',
          params: Type.Object({ keyId: Type.String({ maxLength: 64 }) }),
          response: { 204: noBody('Revoked. No body.') },
        },
      },
      ['NOT_FOUND', 'KEY_IS_CALLER', 'LAST_ADMIN_KEY'],
    ),
    async (request, reply) => {
      await auth.revokeKey(principalOf(request), request.params.keyId);
      return reply.code(204).send(null);
    },
  );
};
