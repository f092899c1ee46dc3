/**
 * `POST /v1/tasks/bulk`: one bounded call that applies an action to many tasks, named by id or
 * matched by the list's filters, each through the same rules as the single action.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TASK_ACTIONS, TaskListQuery, TaskSchema } from './task.js';

/** At most this many tasks per bulk call, whether named by id or matched by a filter. */
export const BULK_MAX = 1000;

const { limit: _limit, cursor: _cursor, ...listFilters } = TaskListQuery.properties;
/** The filters of `GET /v1/tasks`, without its paging. */
export const TaskFilterSchema = Type.Object(listFilters, { additionalProperties: false });

export const BulkActionBody = Type.Object(
  {
    action: Type.Union(
      TASK_ACTIONS.map((a) => Type.Literal(a)),
      { description: 'The action applied to each task, as POST /v1/tasks/{id}/{action} would' },
    ),
    ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        minItems: 1,
        maxItems: BULK_MAX,
        uniqueItems: true,
        description: 'Task ids or identifiers (OPS-42); give ids or filter, not both',
      }),
    ),
    filter: Type.Optional(TaskFilterSchema),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: BULK_MAX,
        description: `With filter: act on at most this many matching tasks, newest first (default ${BULK_MAX})`,
      }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'With filter: the nextCursor of a previous call' }),
    ),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    requeue: Type.Optional(Type.Boolean()),
    dryRun: Type.Optional(Type.Boolean({ description: 'Count what matches (matched, hasMore) and act on nothing' })),
  },
  { additionalProperties: false },
);

export const BulkItemResultSchema = Type.Object({
  taskId: Type.String(),
  ok: Type.Boolean(),
  task: Type.Optional(TaskSchema),
  error: Type.Optional(Type.Object({ code: Type.String(), status: Type.Integer(), detail: Type.String() })),
});

export const BulkActionResponse = Type.Object({
  results: Type.Array(BulkItemResultSchema, { description: 'One per task, in the order acted on' }),
  matched: Type.Integer({ description: 'Tasks named (ids) or matched by the filter within limit' }),
  hasMore: Type.Boolean({ description: 'More tasks match the filter than this call took' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass it back as cursor to go on with the next tasks that match',
  }),
});

export type TaskFilterParams = Static<typeof TaskFilterSchema>;
export type BulkActionRequest = Static<typeof BulkActionBody>;
export type BulkItemResult = Static<typeof BulkItemResultSchema>;
export type BulkActionResult = Static<typeof BulkActionResponse>;
