/** `GET /v1/lists/{listId}` (counts and dependency graph) and `GET /v1/stats`. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ListViewSchema, StatsSchema } from '@tasklane/sdk/schemas';
import type { InsightsService } from '../../service/insights-service.js';
import { principalOf } from '../auth.js';
import { ProblemResponses } from '../openapi.js';

export const insightRoutes: FastifyPluginAsyncTypebox<{ insights: InsightsService }> = async (app, { insights }) => {
  app.get(
    '/v1/lists/:listId',
    {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Counts by status and the dependency graph of a list',
        params: Type.Object({ listId: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: ListViewSchema, ...ProblemResponses },
      },
    },
    async (request) => insights.list(principalOf(request).orgId, request.params.listId),
  );

  app.get(
    '/v1/stats',
    {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Counts by status and type, oldest queued age, claims per minute',
        response: { 200: StatsSchema, ...ProblemResponses },
      },
    },
    async (request) => insights.stats(principalOf(request).orgId),
  );
};
