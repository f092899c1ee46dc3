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

/** What every bulk call says, whichever way it names its tasks. */
const bulkCommon = {
  action: Type.Union(
    TASK_ACTIONS.map((a) => Type.Literal(a)),
    { description: 'The action applied to each task, as POST /v1/tasks/{id}/{action} would' },
  ),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  requeue: Type.Optional(Type.Boolean()),
  dryRun: Type.Optional(Type.Boolean({ description: 'Count what matches (matched, hasMore) and act on nothing' })),
};

/** The tasks named, by id or identifier. */
export const BulkByIdsBody = Type.Object(
  {
    ...bulkCommon,
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: BULK_MAX,
      uniqueItems: true,
      description: 'Task ids or identifiers (OPS-42)',
    }),
  },
  { additionalProperties: false, title: 'BulkByIds' },
);

/** The newest tasks that match the list's filters, a page at a time. */
export const BulkByFilterBody = Type.Object(
  {
    ...bulkCommon,
    filter: TaskFilterSchema,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: BULK_MAX,
        description: `Act on at most this many matching tasks, newest first (default ${BULK_MAX})`,
      }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'The nextCursor of a previous call' }),
    ),
  },
  { additionalProperties: false, title: 'BulkByFilter' },
);

/**
 * Either shape, never both: the schema says so (rather than the route alone), so the OpenAPI
 * document describes exactly the bodies the server takes.
 */
export const BulkActionBody = Type.Union([BulkByIdsBody, BulkByFilterBody]);

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
