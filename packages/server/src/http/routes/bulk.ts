/** `POST /v1/tasks/bulk`: one action on many tasks, named by id or matched by the list's filters. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BulkActionBody, BulkActionResponse } from '@tasklane/sdk/schemas';
import type { BulkActionsService } from '../../service/bulk-actions.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { presentTask } from '../presenters.js';
import { toTaskFilter } from '../task-filter.js';

export const bulkRoutes: FastifyPluginAsyncTypebox<{ bulk: BulkActionsService }> = async (app, { bulk }) => {
  app.post(
    '/v1/tasks/bulk',
    documented('POST', {
      config: { scope: 'tasks:write' },
      schema: {
        tags: ['tasks'],
        summary: 'Apply one action to up to 1,000 tasks, by id or by filter, each on its own',
        description:
          'Each task goes through the same rules and events as `POST /v1/tasks/{id}/{action}`, in its own ' +
          'unit of work; a task that cannot take the action is answered `ok: false` with its error, and the ' +
          'others go on. With `filter`, the newest matching tasks are taken (at most `limit`); `hasMore` and ' +
          '`nextCursor` say whether more match. `dryRun: true` only counts. The body names its tasks by ' +
          '`ids` or by `filter`, one or the other.',
        body: BulkActionBody,
        response: { 200: json(BulkActionResponse, 'One result per task, in the order acted on') },
      },
    }),
    async (request) => {
      // The schema takes ids or filter, never both and never neither (two shapes of body).
      const b = request.body;
      const target =
        'ids' in b
          ? { ids: b.ids }
          : {
              filter: toTaskFilter(b.filter),
              ...(b.limit === undefined ? {} : { limit: b.limit }),
              ...(b.cursor === undefined ? {} : { cursor: b.cursor }),
            };
      const outcome = await bulk.run(principalOf(request).orgId, {
        action: b.action,
        target,
        ...(b.reason === undefined ? {} : { reason: b.reason }),
        ...(b.requeue === undefined ? {} : { requeue: b.requeue }),
        ...(b.dryRun === undefined ? {} : { dryRun: b.dryRun }),
      });
      return {
        results: outcome.results.map((r) =>
          r.ok
            ? { taskId: r.taskId, ok: true, task: presentTask(r.view) }
            : {
                taskId: r.taskId,
                ok: false,
                error: { code: r.error.code, status: r.error.status, detail: r.error.message },
              },
        ),
        matched: outcome.matched,
        hasMore: outcome.hasMore,
        nextCursor: outcome.nextCursor,
      };
    },
  );
};
