/**
 * Hedera Guardian (seed 004) at `/compat/guardian`: `GET /tasks/{taskId}` →
 * `{taskId, action, done, error, result, steps: [{time, message}]}`. Errors are NestJS-style
 * `{statusCode, message, error}` as Guardian's API gateway answers them: 401, 500 (the seed's two),
 * and 403 (scope), 404 (no such task, or another org's), 429 where Tasklane has them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ErrorCode } from '../../domain/errors.js';
import { isTerminal } from '../../domain/status.js';
import type { TaskView } from '../../service/task-view.js';
import { bearerToken } from '../auth.js';
import { iso } from '../presenters.js';
import { asObject, callerOf, installDialect, statusFor, type DialectContext } from './dialect-kit.js';

/** Catalogue code → Guardian status: every server-side fault is Guardian's 500. */
const STATUS: Partial<Record<ErrorCode, number>> = { STORAGE_UNAVAILABLE: 500, INTERNAL: 500 };

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/** Guardian's task status: `done` is terminal; steps without their data; result and error objects or null. */
export function presentGuardianTask({ task: t, steps }: TaskView) {
  return {
    taskId: t.id,
    action: t.title,
    done: isTerminal(t.status),
    error: t.error === null ? null : { ...t.error },
    result: asObject(t.result),
    steps: steps.map((s) => ({ time: iso(s.time), message: s.message })),
  };
}

export const guardianRoutes: FastifyPluginAsyncTypebox<DialectContext> = async (app, { services, authenticate }) => {
  installDialect(app, {
    authenticate,
    tokenOf: (request) => bearerToken(request.headers.authorization),
    render: (err) => {
      const status = statusFor(err, STATUS);
      return {
        status,
        body: {
          statusCode: status,
          message: status >= 500 ? 'Internal server error' : err.message,
          error: REASON[status] ?? 'Error',
        },
      };
    },
  });

  app.get(
    '/tasks/:taskId',
    {
      config: { dialectScope: 'tasks:read' },
      schema: { hide: true, params: Type.Object({ taskId: Type.String({ maxLength: 64 }) }) },
    },
    async (request) => presentGuardianTask(await services.tasks.get(callerOf(request).orgId, request.params.taskId)),
  );
};
