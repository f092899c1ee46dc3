/** `GET /v1/lists/{listId}` (counts and dependency graph) and `GET /v1/stats`. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ListViewSchema, StatsQuery, StatsSchema } from '@tasklane/sdk/schemas';
import type { InsightsService } from '../../service/insights-service.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';

export const insightRoutes: FastifyPluginAsyncTypebox<{ insights: InsightsService }> = async (app, { insights }) => {
  app.get(
    '/v1/lists/:listId',
    documented('GET', {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Counts by status and the dependency graph of a list',
        params: Type.Object({ listId: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: json(ListViewSchema, 'Counts and graph; zeros for a list no task names') },
      },
    }),
    async (request) => insights.list(principalOf(request).orgId, request.params.listId),
  );

  app.get(
    '/v1/stats',
    documented('GET', {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Counts by status and type, oldest queued age, claims per minute (of the org, or of one type)',
        querystring: StatsQuery,
        response: { 200: json(StatsSchema, 'The statistics of the org, or of the type') },
      },
    }),
    async (request) => insights.stats(principalOf(request).orgId, request.query.type),
  );
};
