/** Health, readiness and the API description: public routes, no key needed. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TaskStore } from '../../storage/task-store.js';
import { documented, json } from '../openapi-answers.js';

const Storage = Type.String({ description: 'The backend: sqlite or postgres' });
/** The document itself, described no further here (every part kept as it is: additionalProperties). */
const Anything = { additionalProperties: true } as const;
const OpenApiObject = Type.Unsafe<unknown>(
  Type.Object(
    { openapi: Type.String(), info: Type.Object({}, Anything), paths: Type.Object({}, Anything) },
    { ...Anything, description: 'An OpenAPI 3.1 document' },
  ),
);

export const systemRoutes: FastifyPluginAsync<{ store: TaskStore }> = async (app, { store }) => {
  app.get(
    '/healthz',
    documented('GET', {
      schema: {
        tags: ['system'],
        summary: 'The process is alive',
        response: { 200: json(Type.Object({ status: Type.Literal('ok') }), 'Alive') },
      },
    }),
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    documented('GET', {
      schema: {
        tags: ['system'],
        summary: 'Storage answers',
        response: {
          200: json(Type.Object({ status: Type.Literal('ready'), storage: Storage }), 'Storage answers'),
          503: json(
            Type.Object({ status: Type.Literal('unavailable'), storage: Storage }),
            'Storage does not answer: a probe result, not a problem document',
          ),
        },
      },
    }),
    async (request, reply) => {
      try {
        await store.ping();
        return { status: 'ready', storage: store.capabilities.backend };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', storage: store.capabilities.backend });
      }
    },
  );

  app.get(
    '/openapi.json',
    documented('GET', {
      schema: { tags: ['system'], summary: 'This document', response: { 200: json(OpenApiObject, 'OpenAPI 3.1') } },
    }),
    async () => app.swagger(),
  );
};
