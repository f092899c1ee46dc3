/** `GET /v1/types/{type}/throughput`: completed and failed tasks of a type per minute. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TaskTypeName, ThroughputQuery, ThroughputSchema } from '@tasklane/sdk/schemas';
import type { TypeThroughputService } from '../../service/type-throughput.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { iso } from '../presenters.js';

export const typeThroughputRoutes: FastifyPluginAsyncTypebox<{ throughput: TypeThroughputService }> = async (
  app,
  { throughput },
) => {
  app.get(
    '/v1/types/:type/throughput',
    documented('GET', {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['workers'],
        summary: 'Completed and failed tasks of a type per minute (default: the last 60 minutes)',
        params: Type.Object({ type: TaskTypeName }),
        querystring: ThroughputQuery,
        response: { 200: json(ThroughputSchema, 'One bucket per minute; zeros for a type without tasks') },
      },
    }),
    async (request) => {
      const t = await throughput.throughput(
        principalOf(request).orgId,
        request.params.type,
        request.query.minutes ?? 60,
      );
      return { type: t.type, buckets: t.buckets.map((b) => ({ ...b, minute: iso(b.minute) })) };
    },
  );
};
