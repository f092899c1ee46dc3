/**
 * MindFort (seed 000) at `/compat/mindfort`: `GET /v1/tasks/{org_id::task_uuid}` → `{task_id, status}`,
 * `POST /api/v1/tasks/run`, `POST /v1/tasks/{task_id}/cancel`. Errors are `{error, request_id}` with
 * MindFort's codes: 400 malformed id, 401, 403 for a task that does not exist or belongs to another org
 * (one answer for both), 429 with Retry-After, 502 when storage (or anything behind it) fails.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TasklaneError, type ErrorCode } from '../../domain/errors.js';
import type { TaskStatus } from '../../domain/status.js';
import type { Task } from '../../domain/task.js';
import { UUID_PATTERN } from '../../service/ids.js';
import { bearerToken } from '../auth.js';
import { callerOf, installDialect, nativeCreate, statusFor, titleFrom, type DialectContext } from './dialect-kit.js';

/** Native → MindFort statuses (SPEC §11); `canceled` is configurable (e.g. `cancelled`). */
export function mindfortStatusMap(canceled = 'canceled'): Record<TaskStatus, string> {
  return {
    backlog: 'queued',
    blocked: 'queued',
    queued: 'queued',
    in_progress: 'running',
    needs_review: 'running',
    completed: 'completed',
    failed: 'failed',
    canceled,
  };
}

/** The type of tasks started through `POST /api/v1/tasks/run`. */
export const MINDFORT_TASK_TYPE = 'mindfort.task';

/** Catalogue code → MindFort status: a missing task is 403; every server-side fault is 502. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 400,
  UNSUPPORTED_MEDIA_TYPE: 400,
  URI_TOO_LONG: 400,
  HEADERS_TOO_LARGE: 400,
  UNKNOWN_DEPENDENCY: 400,
  NOT_FOUND: 403,
  FORBIDDEN: 403,
  INTERNAL: 502,
  STORAGE_UNAVAILABLE: 502,
};

export interface MindfortOptions {
  /** What a canceled task is called (default `canceled`). */
  canceledStatus?: string;
}

const ScopedParams = Type.Object({ task_id: Type.String({ maxLength: 300 }) });

const RunBody = Type.Object(
  {
    message: Type.String({ minLength: 1 }),
    target_id: Type.String({ format: 'uuid' }),
    target_credential_id: Type.Optional(Type.String({ format: 'uuid' })),
    task_model: Type.Optional(Type.Union([Type.Literal('MF1_FAST'), Type.Literal('MF1_SMART')])),
  },
  { additionalProperties: false },
);

/**
 * `org_id::task_uuid` → the task uuid, if the org is the caller's. A malformed id is 400; a well-formed
 * id of another org is the same 403 as a task that does not exist.
 */
function taskUuidOf(scoped: string, orgId: string): string {
  const at = scoped.lastIndexOf('::');
  const org = at > 0 ? scoped.slice(0, at) : '';
  const uuid = at > 0 ? scoped.slice(at + 2) : '';
  if (org === '' || !UUID_PATTERN.test(uuid)) {
    throw new TasklaneError('VALIDATION_FAILED', 'task_id must be a scoped task id: org_id::task_uuid.');
  }
  if (org !== orgId) throw new TasklaneError('NOT_FOUND', 'No such task.');
  return uuid.toLowerCase();
}

export const mindfortRoutes: FastifyPluginAsyncTypebox<DialectContext & { mindfort?: MindfortOptions }> = async (
  app,
  { services, authenticate, mindfort },
) => {
  const statusOf = mindfortStatusMap(mindfort?.canceledStatus);
  const present = (t: Task) => ({ task_id: `${t.orgId}::${t.id}`, status: statusOf[t.status] });
  installDialect(app, {
    authenticate,
    tokenOf: (request) => bearerToken(request.headers.authorization),
    render: (err, request) => ({
      status: statusFor(err, STATUS),
      body: { error: err.status >= 500 ? 'Tasks service unavailable' : err.message, request_id: String(request.id) },
    }),
  });

  app.get(
    '/v1/tasks/:task_id',
    { config: { dialectScope: 'tasks:read' }, schema: { hide: true, params: ScopedParams } },
    async (request) => {
      const orgId = callerOf(request).orgId;
      return present((await services.tasks.get(orgId, taskUuidOf(request.params.task_id, orgId))).task);
    },
  );

  app.post(
    '/api/v1/tasks/run',
    { config: { dialectScope: 'tasks:write' }, schema: { hide: true, body: RunBody } },
    async (request) => {
      const p = callerOf(request);
      const b = request.body;
      const { view } = await services.tasks.create(
        { orgId: p.orgId, keyName: p.keyName },
        nativeCreate({
          type: MINDFORT_TASK_TYPE,
          title: titleFrom(b.message),
          input: {
            message: b.message,
            target_id: b.target_id,
            ...(b.target_credential_id === undefined ? {} : { target_credential_id: b.target_credential_id }),
            task_model: b.task_model ?? 'MF1_FAST',
          },
        }),
      );
      return present(view.task);
    },
  );

  app.post(
    '/v1/tasks/:task_id/cancel',
    { config: { dialectScope: 'tasks:write' }, schema: { hide: true, params: ScopedParams } },
    async (request) => {
      const orgId = callerOf(request).orgId;
      const id = taskUuidOf(request.params.task_id, orgId);
      // Canceling a canceled task again is a no-op: the caller's wish already holds.
      const { task } = await services.tasks.get(orgId, id);
      if (task.status === 'canceled') return present(task);
      return present((await services.tasks.action(orgId, id, 'cancel', {})).task);
    },
  );
};
