/**
 * The wire schemas of task events (SPEC §10), as `GET /v1/events` and `GET /v1/tasks/{taskId}/events`
 * send them: one event (the JSON of an SSE frame's `data:` line, or one item of the JSON page), its
 * `data` per type, the data of the `reset` frame, the JSON page, and the query of both routes. The
 * server documents and validates with them; this SDK takes its types from them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EVENT_TYPES, type EventType } from '../vocabulary.js';
import { StepSchema, TaskStatusSchema, TaskTypeName } from './task.js';

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC with milliseconds' });
const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Version = Type.Integer({ minimum: 1, description: "The task's version once the change was written" });
/** Event ids: increasing per org, not dense; 0 is "before the first event". */
const EventId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const EventTypeSchema = Type.Union(
  EVENT_TYPES.map((t) => Type.Literal(t)),
  { description: 'The kind of change' },
);

/** The `data` of each event type: exactly these keys. */
export const EventDataSchemas = {
  'task.created': Type.Object({ status: TaskStatusSchema, version: Version }),
  'task.status_changed': Type.Object({
    from: TaskStatusSchema,
    to: TaskStatusSchema,
    cause: Type.String({
      description: 'What moved it: the action, worker call or sweep (`complete`, `lease_expired`…)',
    }),
    version: Version,
  }),
  'task.progress': Type.Object({
    progress: OrNull(Type.Number()),
    progressMessage: OrNull(Type.String()),
    version: Version,
  }),
  'task.step': Type.Object({ step: StepSchema, version: Version }),
  'task.updated': Type.Object({
    cause: Type.String({ description: 'What changed it (`patch`, `archive`, `heartbeat`…)' }),
    version: Version,
  }),
  'task.deleted': Type.Object({ version: Version }),
} satisfies Record<EventType, TSchema>;

const eventOf = <T extends EventType>(type: T) =>
  Type.Object(
    {
      id: Type.Integer({ minimum: 1, description: 'Increasing per org: resume after it (Last-Event-ID, `after`)' }),
      type: Type.Literal(type),
      taskId: Type.String({ description: 'The task the change happened to (its UUID)' }),
      time: Timestamp,
      data: EventDataSchemas[type],
    },
    { title: type },
  );

/** One event, as each SSE frame's data and each item of the JSON page carry it. `type` tells its `data`. */
export const TaskEventSchema = Type.Union(
  [
    eventOf('task.created'),
    eventOf('task.status_changed'),
    eventOf('task.progress'),
    eventOf('task.step'),
    eventOf('task.updated'),
    eventOf('task.deleted'),
  ],
  { description: 'A change of a task (SPEC §10)' },
);

/**
 * The data of the `reset` frame (and the page's `reset`): the resume point could not be honoured, so
 * the stream goes on from `lastId`; reload what you show, then keep the events that come.
 */
export const EventResetSchema = Type.Object(
  {
    reason: Type.Union([Type.Literal('expired'), Type.Literal('unknown')], {
      description: '`expired`: events after it were deleted (retention); `unknown`: no such id was ever given',
    }),
    after: EventId,
    lastId: EventId,
  },
  { description: 'Where the stream could not resume (`after`) and where it goes on from (`lastId`)' },
);

/** `Accept: application/json`: one page of events instead of a stream. */
export const EventPageSchema = Type.Object(
  {
    items: Type.Array(TaskEventSchema, { description: 'Oldest first' }),
    nextAfter: Type.Integer({
      minimum: 0,
      description:
        "Pass it as `after` for the next page: the last item's id, the resume point when none came, or lastId after a reset",
    }),
    reset: OrNull(EventResetSchema),
  },
  { description: 'A page of events' },
);

const After = Type.Integer({
  ...EventId,
  description: 'Resume after this event id (the `Last-Event-ID` header wins over it)',
});
const Limit = Type.Integer({ minimum: 1, maximum: 1000, description: 'JSON page only: at most this many (100)' });

/** The query of `GET /v1/events`: every filter given must match. */
export const EventsQuery = Type.Object(
  {
    type: Type.Optional(
      Type.Array(EventTypeSchema, { maxItems: 6, description: 'Repeat for several: any of them matches' }),
    ),
    taskType: Type.Optional(TaskTypeName),
    listId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The id or the key (OPS)' })),
    after: Type.Optional(After),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);

/** The query of `GET /v1/tasks/{taskId}/events`. */
export const TaskEventsQuery = Type.Object(
  { after: Type.Optional(After), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);

export type TaskEvent = Static<typeof TaskEventSchema>;
export type EventReset = Static<typeof EventResetSchema>;
export type EventPage = Static<typeof EventPageSchema>;
export type EventsParams = Static<typeof EventsQuery>;
export type TaskEventsParams = Static<typeof TaskEventsQuery>;
export type { EventType } from '../vocabulary.js';
