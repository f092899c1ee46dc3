/**
 * Capy (seed 001) at `/compat/capy`: `GET /v1/tasks/{uuid or identifier}` → exactly the seed's `Task`
 * (every required field, nothing else), `POST /v1/tasks`, `POST /v1/tasks/{taskId}/stop`. Errors are
 * `{error: {code, message, details}}` with Capy's codes: 401 unauthorized, 403 forbidden, 404 not_found,
 * 422 validation_error (also an id that is neither a UUID nor an identifier), 500 internal_error.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TasklaneError } from '../../domain/errors.js';
import type { TaskStatus } from '../../domain/status.js';
import type { Task } from '../../domain/task.js';
import { isTaskRef } from '../../service/task-lookup.js';
import type { TaskView } from '../../service/task-view.js';
import { bearerToken } from '../auth.js';
import { iso } from '../presenters.js';
import { callerOf, installDialect, nativeCreate, titleFrom, type DialectContext } from './dialect-kit.js';

export type CapyStatus = 'backlog' | 'queued' | 'in_progress' | 'needs_review' | 'completed' | 'error' | 'archived';

/** Native → Capy statuses (SPEC §11). An archived task is `archived` whatever its status. */
export const CAPY_STATUS: Record<TaskStatus, CapyStatus> = {
  backlog: 'backlog',
  blocked: 'backlog',
  queued: 'queued',
  in_progress: 'in_progress',
  needs_review: 'needs_review',
  completed: 'completed',
  failed: 'error',
  canceled: 'archived',
};

export const capyStatusOf = (t: Pick<Task, 'status' | 'archivedAt'>): CapyStatus =>
  t.archivedAt !== null ? 'archived' : CAPY_STATUS[t.status];

/** The type of tasks created through `POST /v1/tasks`. */
export const CAPY_TASK_TYPE = 'capy.task';

/** Capy's codes by status: it documents 401, 403, 404, 422 and 500, and rate limits with 429. */
const CODE: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  422: 'validation_error',
  429: 'rate_limited',
  500: 'internal_error',
};

const TaskParams = Type.Object({ taskId: Type.String({ maxLength: 64 }) });

const CreateBody = Type.Object(
  {
    projectId: Type.String({ minLength: 1 }),
    prompt: Type.String({ minLength: 1 }),
    title: Type.Optional(Type.String({ minLength: 1 })),
    labels: Type.Optional(Type.Array(Type.String())),
    repos: Type.Optional(
      Type.Array(
        Type.Object(
          { repoFullName: Type.String(), branch: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    attachmentUrls: Type.Optional(Type.Array(Type.String({ format: 'uri' }))),
    start: Type.Optional(Type.Boolean()),
    model: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const StopBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
  { additionalProperties: false },
);

/** The prompt: `input.prompt` when the task has one, else its description, else its title. */
function promptOf(t: Task): string {
  const input = t.input;
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && typeof input.prompt === 'string')
    return input.prompt;
  return t.description ?? t.title;
}

/** The seed's `Task`: every required field and no other (it declares additionalProperties: false). */
export function presentCapyTask({ task: t }: TaskView) {
  return {
    id: t.id,
    projectId: t.projectId ?? '',
    threadIndex: null,
    identifier: t.identifier ?? t.id,
    title: t.title,
    prompt: promptOf(t),
    status: capyStatusOf(t),
    pullRequest: null,
    slackThreads: [],
    currentJamId: null,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    threadId: null,
  };
}

/** Capy answers 422 for an id that is neither a UUID nor an identifier, 404 for one it cannot find. */
function refOf(taskId: string): string {
  if (!isTaskRef(taskId)) {
    throw new TasklaneError('VALIDATION_FAILED', 'taskId must be a task UUID or an identifier such as OPS-42.', {
      errors: [{ path: 'taskId', message: 'is neither a UUID nor an identifier' }],
    });
  }
  return taskId;
}

export const capyRoutes: FastifyPluginAsyncTypebox<DialectContext> = async (app, { services, authenticate }) => {
  installDialect(app, {
    authenticate,
    tokenOf: (request) => bearerToken(request.headers.authorization),
    render: (err) => {
      // Any other client error (400, 409, 413, 415) is Capy's 422; any server fault its 500.
      const status = CODE[err.status] !== undefined ? err.status : err.status >= 500 ? 500 : 422;
      const details = err.errors === undefined ? {} : { errors: err.errors };
      return {
        status,
        body: {
          error: {
            code: CODE[status] ?? 'validation_error',
            message: status >= 500 ? 'Unexpected server error' : err.message,
            details,
          },
        },
      };
    },
  });

  app.get(
    '/v1/tasks/:taskId',
    { config: { dialectScope: 'tasks:read' }, schema: { hide: true, params: TaskParams } },
    async (request) => presentCapyTask(await services.tasks.get(callerOf(request).orgId, refOf(request.params.taskId))),
  );

  app.post(
    '/v1/tasks',
    { config: { dialectScope: 'tasks:write' }, schema: { hide: true, body: CreateBody } },
    async (request) => {
      const p = callerOf(request);
      const b = request.body;
      const { view } = await services.tasks.create(
        { orgId: p.orgId, keyName: p.keyName },
        nativeCreate({
          type: CAPY_TASK_TYPE,
          projectId: b.projectId,
          title: b.title ?? titleFrom(b.prompt),
          input: {
            prompt: b.prompt,
            ...(b.repos === undefined ? {} : { repos: b.repos }),
            ...(b.attachmentUrls === undefined ? {} : { attachmentUrls: b.attachmentUrls }),
            ...(b.model === undefined ? {} : { model: b.model }),
          },
          ...(b.labels === undefined ? {} : { labels: b.labels }),
          // A Capy task waits in the backlog until it is started.
          start: b.start ?? false,
        }),
      );
      const t = presentCapyTask(view);
      return {
        id: t.id,
        projectId: t.projectId,
        identifier: t.identifier,
        title: t.title,
        status: t.status,
        createdAt: t.createdAt,
      };
    },
  );

  app.post(
    '/v1/tasks/:taskId/stop',
    {
      config: { dialectScope: 'tasks:write' },
      schema: { hide: true, params: TaskParams, body: StopBody },
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const orgId = callerOf(request).orgId;
      const ref = refOf(request.params.taskId);
      // Stopping a stopped (canceled) task again is a no-op; a finished one cannot be stopped (422).
      let view = await services.tasks.get(orgId, ref);
      if (view.task.status !== 'canceled') {
        const reason = request.body.reason;
        view = await services.tasks.action(orgId, ref, 'cancel', reason === undefined ? {} : { reason });
      }
      const t = presentCapyTask(view);
      return { id: t.id, identifier: t.identifier, status: t.status };
    },
  );
};
