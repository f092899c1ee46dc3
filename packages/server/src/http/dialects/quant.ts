/**
 * QuantCDN AI tasks (seed 003) at `/compat/quant/api/v3`, under `/organizations/{organisation}/ai/tasks`:
 * get, create, list (taskListId, status, assignedAgentId), `PUT` update (status changes go through the
 * transition table; an agent takes a task with `assignedAgentId` + `in_progress`) and `DELETE` (409 while
 * active tasks depend on it). The organisation in the path must be the key's org (404 otherwise, like
 * a missing task). Times are epoch ms; errors are `{error, code}`.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TasklaneError, type ErrorCode } from '../../domain/errors.js';
import { STATUSES } from '../../domain/status.js';
import { bearerToken } from '../auth.js';
import { callerOf, installDialect, nativeCreate, statusFor, type DialectContext } from './dialect-kit.js';
import { QUANT_STATUS, QUANT_STATUSES, presentQuantTask, quantStatusOf } from './quant-task.js';
import { normalizeIds, planQuantUpdate } from './quant-update.js';

/** The type of tasks created through Quant (Quant has no types; its agents take tasks by id). */
export const QUANT_TASK_TYPE = 'quant.task';

const STATUS: Partial<Record<ErrorCode, number>> = {
  MALFORMED_JSON: 400,
  UNKNOWN_DEPENDENCY: 400,
  DEPENDENCY_CYCLE: 400,
  UNSUPPORTED_MEDIA_TYPE: 400,
  PRECONDITION_FAILED: 409,
  STORAGE_UNAVAILABLE: 500,
};
/** Quant's own name where it documents one. */
const CODE: Partial<Record<ErrorCode, string>> = { HAS_DEPENDENTS: 'TASK_HAS_DEPENDENTS', NOT_FOUND: 'TASK_NOT_FOUND' };

const Status = Type.Union(QUANT_STATUSES.map((s) => Type.Literal(s)));
const Ids = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 });
const OrgParams = Type.Object({ organisation: Type.String({ maxLength: 100 }) });
const TaskParams = Type.Object({
  organisation: Type.String({ maxLength: 100 }),
  taskId: Type.String({ maxLength: 64 }),
});

const CreateBody = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    taskListId: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Status),
    assignedAgentId: Type.Optional(Type.String({ minLength: 1 })),
    createdByAgentId: Type.Optional(Type.String({ minLength: 1 })),
    dependsOn: Type.Optional(Ids),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    maxRetries: Type.Optional(Type.Integer({ minimum: 0 })),
    blockedReason: Type.Optional(Type.String({ minLength: 1 })),
    blockedByTaskIds: Type.Optional(Ids),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    taskListId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    status: Type.Optional(Status),
    assignedAgentId: Type.Optional(Type.String({ minLength: 1 })),
    dependsOn: Type.Optional(Ids),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    progressMessage: Type.Optional(Type.String()),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Type.String({ minLength: 1 })),
    retryCount: Type.Optional(Type.Integer({ minimum: 0 })),
    maxRetries: Type.Optional(Type.Integer({ minimum: 0 })),
    blockedReason: Type.Optional(Type.String({ minLength: 1 })),
    blockedByTaskIds: Type.Optional(Ids),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  {
    taskListId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    status: Type.Optional(Status),
    assignedAgentId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    dependsOn: Type.Optional(Type.String()),
    includeDetails: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const quantRoutes: FastifyPluginAsyncTypebox<DialectContext> = async (app, { services, authenticate }) => {
  installDialect(app, {
    authenticate,
    tokenOf: (request) => bearerToken(request.headers.authorization),
    render: (err) => {
      const status = statusFor(err, STATUS);
      return {
        status,
        body: {
          error: status >= 500 ? 'Internal server error' : err.message,
          code: status >= 500 ? 'INTERNAL_ERROR' : (CODE[err.code] ?? err.code),
        },
      };
    },
  });
  // The organisation in the path must be the key's: any other answers like a missing task.
  app.addHook('preValidation', async (request) => {
    const { organisation } = request.params as { organisation?: string };
    if (request.principal !== null && organisation !== undefined && organisation !== request.principal.orgId) {
      throw new TasklaneError('NOT_FOUND', 'No such organisation.');
    }
  });
  const base = '/organizations/:organisation/ai/tasks';
  const read = { dialectScope: 'tasks:read' } as const;
  const write = { dialectScope: 'tasks:write' } as const;

  app.get(`${base}/:taskId`, { config: read, schema: { hide: true, params: TaskParams } }, async (request) =>
    presentQuantTask((await services.tasks.get(callerOf(request).orgId, request.params.taskId)).task),
  );

  app.get(
    `${base}`,
    { config: read, schema: { hide: true, params: OrgParams, querystring: ListQuery } },
    async (request) => {
      const q = request.query;
      if (q.dependsOn !== undefined || q.includeDetails !== undefined) {
        throw new TasklaneError(
          'VALIDATION_FAILED',
          'The dependsOn reverse lookup is not supported; list by taskListId instead.',
        );
      }
      const status = q.status === undefined ? undefined : STATUSES.filter((s) => QUANT_STATUS[s] === q.status);
      const page = await services.tasks.list(
        callerOf(request).orgId,
        {
          ...(q.taskListId === undefined ? {} : { listId: q.taskListId }),
          ...(status === undefined ? {} : { status }),
          ...(q.assignedAgentId === undefined ? {} : { assignee: q.assignedAgentId }),
          archived: false,
        },
        q.limit ?? 50,
        undefined,
      );
      return { tasks: page.items.map((v) => presentQuantTask(v.task)), count: page.items.length };
    },
  );

  app.post(
    `${base}`,
    { config: write, schema: { hide: true, params: OrgParams, body: CreateBody } },
    async (request, reply) => {
      const p = callerOf(request);
      const b = request.body;
      const initial = b.status ?? 'pending';
      if (initial !== 'pending' && initial !== 'blocked') {
        throw new TasklaneError('VALIDATION_FAILED', 'A task is created pending or blocked.', {
          errors: [{ path: '/status', message: 'must be pending or blocked' }],
        });
      }
      const dependsOn = [...new Set(normalizeIds([...(b.dependsOn ?? []), ...(b.blockedByTaskIds ?? [])]))];
      const { task } = (
        await services.tasks.create(
          { orgId: p.orgId, keyName: p.keyName },
          nativeCreate({
            type: QUANT_TASK_TYPE,
            title: b.title,
            ...(b.description === undefined ? {} : { description: b.description }),
            ...(b.taskListId === undefined ? {} : { listId: b.taskListId }),
            ...(b.assignedAgentId === undefined ? {} : { assignee: b.assignedAgentId }),
            ...(b.createdByAgentId === undefined ? {} : { createdBy: b.createdByAgentId }),
            ...(dependsOn.length === 0 ? {} : { dependsOn }),
            ...(b.metadata === undefined ? {} : { metadata: b.metadata }),
            ...(b.maxRetries === undefined ? {} : { maxRetries: b.maxRetries }),
          }),
          undefined,
          // Asked blocked and not already waiting for its dependencies: a manual block, with its reason,
          // in the same unit as the create.
          initial !== 'blocked'
            ? undefined
            : (created) =>
                created.status === 'blocked'
                  ? []
                  : [
                      {
                        kind: 'action',
                        action: 'block',
                        ...(b.blockedReason === undefined ? {} : { reason: b.blockedReason }),
                      },
                    ],
        )
      ).view;
      return reply.code(201).send({
        taskId: task.id,
        orgId: task.orgId,
        title: task.title,
        status: quantStatusOf(task),
        createdAt: task.createdAt,
      });
    },
  );

  app.put(
    `${base}/:taskId`,
    {
      config: { dialectScope: ['tasks:write', 'tasks:work'] },
      schema: { hide: true, params: TaskParams, body: UpdateBody },
    },
    async (request) => {
      const p = callerOf(request);
      // One unit: the status change, the fields and progress are all applied, or none is.
      const { task } = await services.tasks.update(p.orgId, request.params.taskId, planQuantUpdate(p, request.body), {
        mayClaim: request.body.status === 'in_progress',
      });
      return { taskId: task.id, status: quantStatusOf(task), updatedAt: task.updatedAt };
    },
  );

  app.delete(
    `${base}/:taskId`,
    {
      config: write,
      schema: {
        hide: true,
        params: TaskParams,
        querystring: Type.Object({ cascade: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      if (request.query.cascade === true) {
        throw new TasklaneError('VALIDATION_FAILED', 'cascade deletes are not supported: delete the dependents first.');
      }
      const orgId = callerOf(request).orgId;
      const { task } = await services.tasks.get(orgId, request.params.taskId);
      await services.tasks.delete(orgId, task.id);
      return { deleted: true, deletedCount: 1, deletedTaskIds: [task.id] };
    },
  );
};
