/** Wire schemas of the worker API (SPEC §5), types, lists and stats. */
import { Type, type Static } from '@sinclair/typebox';
import { STATUSES } from '../vocabulary.js';
import { JsonValue, RetryPolicyInput, StepInput, TaskSchema, TaskTypeName } from './task.js';

const LeaseId = Type.String({ minLength: 1, maxLength: 64 });
const WorkerId = Type.String({ minLength: 1, maxLength: 200 });
const LeaseMs = Type.Integer({ minimum: 1000, maximum: 86_400_000 });

export const ClaimBody = Type.Object(
  {
    types: Type.Array(TaskTypeName, { minItems: 1, maxItems: 50 }),
    workerId: WorkerId,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
    leaseMs: Type.Optional(LeaseMs),
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000 })),
  },
  { additionalProperties: false },
);

export const ClaimOneBody = Type.Object(
  { workerId: WorkerId, leaseMs: Type.Optional(LeaseMs) },
  { additionalProperties: false },
);

export const ClaimResponse = Type.Object({ tasks: Type.Array(TaskSchema) });

const heartbeatProperties = {
  leaseId: LeaseId,
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  progressMessage: Type.Optional(Type.String({ maxLength: 2000 })),
  steps: Type.Optional(Type.Array(StepInput, { maxItems: 100 })),
  extendMs: Type.Optional(LeaseMs),
};
const completeProperties = {
  leaseId: LeaseId,
  result: Type.Optional(JsonValue),
  review: Type.Optional(Type.Boolean({ description: 'Ask for human review: needs_review instead of completed' })),
};
const failProperties = {
  leaseId: LeaseId,
  error: Type.Object(
    {
      code: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' })),
      message: Type.String({ minLength: 1, maxLength: 10_000 }),
      details: Type.Optional(JsonValue),
    },
    { additionalProperties: false },
  ),
  retryable: Type.Optional(Type.Boolean()),
  retryAfterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000_000 })),
};
const releaseProperties = {
  leaseId: LeaseId,
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000_000 })),
};

export const HeartbeatBody = Type.Object(heartbeatProperties, { additionalProperties: false });
export const CompleteBody = Type.Object(completeProperties, { additionalProperties: false });
export const FailBody = Type.Object(failProperties, { additionalProperties: false });
export const ReleaseBody = Type.Object(releaseProperties, { additionalProperties: false });

export const HeartbeatResponse = Type.Object({
  leaseExpiresAt: Type.String({ format: 'date-time' }),
  task: TaskSchema,
});

const TaskRef = Type.String({ minLength: 1, maxLength: 64 });
export const ReportItem = Type.Union([
  Type.Object(
    { taskId: TaskRef, action: Type.Literal('heartbeat'), ...heartbeatProperties },
    { additionalProperties: false },
  ),
  Type.Object(
    { taskId: TaskRef, action: Type.Literal('complete'), ...completeProperties },
    { additionalProperties: false },
  ),
  Type.Object({ taskId: TaskRef, action: Type.Literal('fail'), ...failProperties }, { additionalProperties: false }),
  Type.Object(
    { taskId: TaskRef, action: Type.Literal('release'), ...releaseProperties },
    { additionalProperties: false },
  ),
]);

export const ReportsBody = Type.Object(
  { reports: Type.Array(ReportItem, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const ReportsResponse = Type.Object({
  results: Type.Array(
    Type.Object({
      taskId: Type.String(),
      ok: Type.Boolean(),
      status: Type.Optional(
        Type.Union(
          STATUSES.map((s) => Type.Literal(s)),
          { description: 'The status after the report' },
        ),
      ),
      version: Type.Optional(Type.Integer()),
      error: Type.Optional(Type.Object({ code: Type.String(), status: Type.Integer(), detail: Type.String() })),
    }),
  ),
});

export const TypeSettingsBody = Type.Object(
  {
    concurrency: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100_000 }), Type.Null()])),
    rateLimit: Type.Optional(
      Type.Union([
        Type.Object(
          {
            count: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
            perMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    defaults: Type.Optional(
      Type.Object(
        {
          maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          retryPolicy: Type.Optional(RetryPolicyInput),
          leaseMs: Type.Optional(LeaseMs),
          timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 604_800_000 })),
          priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
          ttlSeconds: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 315_360_000,
              description: "How long the type's tasks are kept once they end (before the org's default)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const TypeSettingsSchema = Type.Object({
  type: Type.String(),
  concurrency: Type.Union([Type.Integer(), Type.Null()]),
  rateLimit: Type.Union([Type.Object({ count: Type.Integer(), perMs: Type.Integer() }), Type.Null()]),
  defaults: Type.Object({
    maxRetries: Type.Optional(Type.Integer()),
    retryPolicy: Type.Optional(RetryPolicyInput),
    leaseMs: Type.Optional(Type.Integer()),
    timeoutMs: Type.Optional(Type.Integer()),
    priority: Type.Optional(Type.Integer()),
    ttlSeconds: Type.Optional(Type.Integer()),
  }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export const TypeSettingsList = Type.Object({ items: Type.Array(TypeSettingsSchema) });

const StatusCounts = Type.Object(Object.fromEntries(STATUSES.map((s) => [s, Type.Integer()])));

export const ListViewSchema = Type.Object({
  listId: Type.String(),
  total: Type.Integer(),
  counts: StatusCounts,
  nodes: Type.Array(
    Type.Object({
      id: Type.String(),
      identifier: Type.Union([Type.String(), Type.Null()]),
      type: Type.String(),
      title: Type.String(),
      status: Type.String(),
    }),
  ),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String() }), {
    description: 'from = the dependency, to = the task waiting for it',
  }),
  truncated: Type.Boolean(),
});

/**
 * `GET /v1/stats`: of the whole org, or with `type` of that type alone (its counts, its oldest
 * claimable task, its claims in the last minute).
 */
export const StatsQuery = Type.Object({ type: Type.Optional(TaskTypeName) }, { additionalProperties: false });

export const StatsSchema = Type.Object({
  total: Type.Integer(),
  byStatus: StatusCounts,
  byType: Type.Record(Type.String(), StatusCounts),
  oldestQueuedAgeMs: Type.Union([Type.Integer(), Type.Null()]),
  claimsPerMinute: Type.Integer(),
});

/** `GET /v1/types/{type}/throughput`: completions and failures per minute. */
export const ThroughputQuery = Type.Object(
  { minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60 })) },
  { additionalProperties: false },
);

export const ThroughputSchema = Type.Object({
  type: Type.String(),
  buckets: Type.Array(
    Type.Object({
      minute: Type.String({ format: 'date-time', description: 'Start of the minute' }),
      completed: Type.Integer(),
      failed: Type.Integer(),
    }),
    { description: 'Oldest first, one per minute, the current minute last' },
  ),
});

export type ClaimRequest = Static<typeof ClaimBody>;
export type HeartbeatRequest = Static<typeof HeartbeatBody>;
export type CompleteRequest = Static<typeof CompleteBody>;
export type FailRequest = Static<typeof FailBody>;
export type ReleaseRequest = Static<typeof ReleaseBody>;
export type Report = Static<typeof ReportItem>;
export type ReportsResult = Static<typeof ReportsResponse>;
export type TypeSettingsInput = Static<typeof TypeSettingsBody>;
export type TypeSettings = Static<typeof TypeSettingsSchema>;
export type ListView = Static<typeof ListViewSchema>;
export type Stats = Static<typeof StatsSchema>;
export type StatsParams = Static<typeof StatsQuery>;
export type Throughput = Static<typeof ThroughputSchema>;
