/** Health, readiness and the API description: public routes, no key needed. */
import type { FastifyPluginAsync } from 'fastify';
import type { TaskStore } from '../../storage/task-store.js';

export const systemRoutes: FastifyPluginAsync<{ store: TaskStore }> = async (app, { store }) => {
  app.get('/healthz', { schema: { tags: ['system'], summary: 'The process is alive' } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { schema: { tags: ['system'], summary: 'Storage answers' } }, async (request, reply) => {
    try {
      await store.ping();
      return { status: 'ready', storage: store.capabilities.backend };
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', storage: store.capabilities.backend });
    }
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
