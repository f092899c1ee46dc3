/**
 * The wire schemas of tasks, written once in TypeBox. The server validates requests, serializes
 * responses and generates /openapi.json from them; this SDK takes its types from them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EVENT_TYPES, STATUSES } from '../vocabulary.js';

/** @deprecated The same list as `STATUSES` of the vocabulary (`@tasklane/sdk/vocabulary`); use that. */
export const STATUS_VALUES = STATUSES;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/**
 * The same for response fields, as `type: [T, 'null']` instead of `anyOf`: the serializer then
 * writes the value without first testing it against each branch (a date-time format check per
 * timestamp per response, otherwise).
 */
const OrNull = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [(schema as unknown as { type: string }).type, 'null'] });
const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC with milliseconds' });

export const TaskStatusSchema = Type.Union(
  STATUSES.map((s) => Type.Literal(s)),
  { description: 'backlog, blocked, queued, in_progress, needs_review are active; the rest are terminal' },
);

export const TYPE_NAME_PATTERN = '^[A-Za-z0-9._:/-]{1,128}$';
export const TaskTypeName = Type.String({ pattern: TYPE_NAME_PATTERN, minLength: 1, maxLength: 128 });

/** Any JSON value. */
export const JsonValue = Type.Unknown({ description: 'Any JSON value' });
export const Metadata = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  maxProperties: 64,
  description: 'String keys, JSON values, at most 64 keys',
});
export const Labels = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 32 });

export const RetryPolicySchema = Type.Object(
  {
    strategy: Type.Union([Type.Literal('fixed'), Type.Literal('linear'), Type.Literal('exponential')]),
    delayMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
    maxDelayMs: Type.Integer({ minimum: 0, maximum: 31_536_000_000 }),
    jitter: Type.Union([Type.Literal('none'), Type.Literal('full')]),
  },
  { additionalProperties: false },
);
export const RetryPolicyInput = Type.Partial(RetryPolicySchema, { additionalProperties: false });

export const TaskErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(JsonValue),
  retryable: Type.Boolean(),
});

export const StepSchema = Type.Object({
  time: Timestamp,
  message: Type.String(),
  data: Type.Optional(JsonValue),
});

export const LeaseSchema = Type.Object({
  id: Type.Optional(Type.String({ description: 'Shown only to the worker that holds the lease' })),
  workerId: Type.String(),
  expiresAt: Timestamp,
});

export const TaskSchema = Type.Object(
  {
    id: Type.String({ description: 'UUIDv7' }),
    orgId: Type.String(),
    projectId: OrNull(Type.String()),
    identifier: OrNull(Type.String()),
    listId: OrNull(Type.String()),
    type: Type.String(),
    title: Type.String(),
    description: OrNull(Type.String()),
    input: JsonValue,
    status: TaskStatusSchema,
    priority: Type.Integer(),
    progress: OrNull(Type.Number()),
    progressMessage: OrNull(Type.String()),
    steps: Type.Array(StepSchema),
    result: JsonValue,
    error: OrNull(TaskErrorSchema),
    attempt: Type.Integer(),
    retryCount: Type.Integer({ description: 'Failed attempts that were retried, counted against maxRetries' }),
    maxRetries: Type.Integer(),
    retryPolicy: RetryPolicySchema,
    leaseMs: OrNull(Type.Integer()),
    timeoutMs: OrNull(Type.Integer()),
    runAt: OrNull(Timestamp),
    dependsOn: Type.Array(Type.String()),
    blockedBy: Type.Array(Type.String()),
    blockedReason: OrNull(Type.String()),
    onDependencyFailure: Type.Union([Type.Literal('cancel'), Type.Literal('run')]),
    assignee: OrNull(Type.String()),
    createdBy: OrNull(Type.String()),
    pollCount: Type.Integer(),
    requiresReview: Type.Boolean(),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    labels: Type.Array(Type.String()),
    idempotencyKey: OrNull(Type.String()),
    version: Type.Integer(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    queuedAt: OrNull(Timestamp),
    startedAt: OrNull(Timestamp),
    completedAt: OrNull(Timestamp),
    blockedAt: OrNull(Timestamp),
    archivedAt: OrNull(Timestamp),
    expiresAt: OrNull(Timestamp),
    lease: OrNull(LeaseSchema),
  },
  { description: 'A task (SPEC §2)' },
);

/** The fields a client may set at creation. Any other field (status, attempt, orgId, …) is a 400. */
export const taskCreateProperties = {
  type: TaskTypeName,
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  description: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
  input: Type.Optional(JsonValue),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
  maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  retryPolicy: Type.Optional(RetryPolicyInput),
  leaseMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 604_800_000 })),
  runAt: Type.Optional(Timestamp),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000_000 })),
  dependsOn: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, uniqueItems: true }),
  ),
  onDependencyFailure: Type.Optional(Type.Union([Type.Literal('cancel'), Type.Literal('run')])),
  assignee: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  createdBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  requiresReview: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(Metadata),
  labels: Type.Optional(Labels),
  listId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000 })),
  start: Type.Optional(Type.Boolean({ description: 'false: create in backlog' })),
  callbackUrl: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2048,
      description: "Where the task's changes are POSTed, signed with the org's callback secret (docs/webhooks.md)",
    }),
  ),
  callbackEvents: Type.Optional(
    Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), {
      minItems: 1,
      maxItems: 6,
      uniqueItems: true,
      description: 'The event types sent to callbackUrl (default: the terminal status change only)',
    }),
  ),
};

/** callbackEvents without a callbackUrl is a 400. */
const CALLBACK_RULE = { dependentRequired: { callbackEvents: ['callbackUrl'] } };

export const TaskCreateBody = Type.Object(taskCreateProperties, { additionalProperties: false, ...CALLBACK_RULE });

export const BatchItem = Type.Object(
  {
    ...taskCreateProperties,
    ref: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'A name other items of this batch may list in dependsOn',
      }),
    ),
  },
  { additionalProperties: false, ...CALLBACK_RULE },
);

export const BatchCreateBody = Type.Object(
  { tasks: Type.Array(BatchItem, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const TaskPatchBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
        maxProperties: 64,
        description: 'Merged into the task metadata; a null value removes the key',
      }),
    ),
    labels: Type.Optional(Labels),
    assignee: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    requiresReview: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TASK_ACTIONS = [
  'start',
  'cancel',
  'retry',
  'block',
  'unblock',
  'approve',
  'reject',
  'archive',
  'unarchive',
] as const;

export const TaskActionBody = Type.Object(
  {
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    requeue: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const StepInput = Type.Object(
  { message: Type.String({ minLength: 1, maxLength: 4000 }), data: Type.Optional(JsonValue) },
  { additionalProperties: false },
);

export const StepsAppendBody = Type.Object(
  {
    steps: Type.Array(StepInput, { minItems: 1, maxItems: 100 }),
    leaseId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const StepsResponse = Type.Object({ steps: Type.Array(StepSchema) });

export const TaskListQuery = Type.Object(
  {
    // Repeat the parameter for several statuses (status=queued&status=failed); one is a list of one.
    status: Type.Optional(Type.Array(TaskStatusSchema, { maxItems: 8 })),
    type: Type.Optional(TaskTypeName),
    listId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    createdAfter: Type.Optional(Timestamp),
    createdBefore: Type.Optional(Timestamp),
    archived: Type.Optional(Type.Boolean()),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Tasks whose title contains this text: case ignored for ASCII letters (for others, see docs/api.md), ' +
          '% and _ taken literally',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const TaskListResponse = Type.Object({
  items: Type.Array(TaskSchema),
  nextCursor: Nullable(Type.String()),
  hasMore: Type.Boolean(),
});

export const BatchResponse = Type.Object({ tasks: Type.Array(TaskSchema) });

/** What a batch create answers for each task with `Prefer: return=minimal`: enough to follow it. */
export const CreatedTaskSchema = Type.Object({
  id: Type.String(),
  identifier: OrNull(Type.String()),
  status: TaskStatusSchema,
  version: Type.Integer(),
});
export const BatchMinimalResponse = Type.Object({ tasks: Type.Array(CreatedTaskSchema) });
export type CreatedTask = Static<typeof CreatedTaskSchema>;

export type { TaskStatus } from '../vocabulary.js';
export type TaskAction = (typeof TASK_ACTIONS)[number];
export type Task = Static<typeof TaskSchema>;
export type TaskCreate = Static<typeof TaskCreateBody>;
export type BatchCreate = Static<typeof BatchCreateBody>;
export type TaskPatch = Static<typeof TaskPatchBody>;
export type TaskListParams = Static<typeof TaskListQuery>;
export type TaskList = Static<typeof TaskListResponse>;
export type Step = Static<typeof StepSchema>;
export type StepInputT = Static<typeof StepInput>;
