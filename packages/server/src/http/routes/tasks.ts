/** The client API of tasks (SPEC §4): create, batch, get (ETag, long-poll), list, patch, actions, delete, steps. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BatchCreateBody,
  BatchMinimalResponse,
  BatchResponse,
  StepsAppendBody,
  StepsResponse,
  TASK_ACTIONS,
  TaskActionBody,
  TaskCreateBody,
  TaskListQuery,
  TaskListResponse,
  TaskPatchBody,
  TaskSchema,
} from '@tasklane/sdk/schemas';
import { TasklaneError } from '../../domain/errors.js';
import { isActive, type TaskStatus } from '../../domain/status.js';
import { hasScope } from '../../service/principal.js';
import type { TaskService } from '../../service/task-service.js';
import { principalOf } from '../auth.js';
import { checkCallback, checkCallbacks } from '../callback-urls.js';
import { presentStep, presentTask } from '../presenters.js';
import { ANSWER_HEADERS as H, documented, json, noBody } from '../openapi-answers.js';
import { requestSignal } from '../request-signal.js';
import { toTaskFilter } from '../task-filter.js';

export interface TaskRoutesOptions {
  tasks: TaskService;
  /** Fires on shutdown: held long-polls answer at once. */
  shutdown: AbortSignal;
  /** Throws URL_NOT_ALLOWED for a callbackUrl deliveries may not go to (WebhookService.checkUrl). */
  checkCallbackUrl: (url: string, path: string) => Promise<void>;
}

const TaskParams = Type.Object({ taskId: Type.String({ maxLength: 64, description: 'UUID or identifier (OPS-42)' }) });
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Sent again with the same body within 24 h, the request creates nothing and answers 200',
    }),
  ),
});
const BatchHeaders = Type.Object({
  ...IdempotencyHeaders.properties,
  prefer: Type.Optional(Type.String({ description: '`return=minimal` (RFC 7240): each task answered as CreatedTask' })),
});
const created = { ...H.location, ...H.etag };

export const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (
  app,
  { tasks, shutdown, checkCallbackUrl },
) => {
  app.post(
    '/v1/tasks',
    documented(
      'POST',
      {
        config: { scope: 'tasks:write' },
        schema: {
          tags: ['tasks'],
          summary: 'Create a task',
          body: TaskCreateBody,
          headers: IdempotencyHeaders,
          response: {
            201: json(TaskSchema, 'Created', created),
            200: json(TaskSchema, 'The task this Idempotency-Key created before, as it is now', created),
          },
        },
      },
      [
        'VALIDATION_FAILED',
        'URL_NOT_ALLOWED',
        'PAYLOAD_TOO_LARGE',
        'UNKNOWN_DEPENDENCY',
        'IDEMPOTENCY_MISMATCH',
        'CONFLICT',
      ],
    ),
    async (request, reply) => {
      const body = request.body;
      const p = principalOf(request);
      await checkCallback(body, '', checkCallbackUrl);
      const { view, created } = await tasks.create(
        { orgId: p.orgId, keyName: p.keyName },
        body,
        request.headers['idempotency-key'],
      );
      reply.header('location', `/v1/tasks/${view.task.id}`).header('etag', etag(view.task.version));
      return reply.code(created ? 201 : 200).send(presentTask(view));
    },
  );

  app.post(
    '/v1/tasks/batch',
    documented(
      'POST',
      {
        config: { scope: 'tasks:write' },
        schema: {
          tags: ['tasks'],
          summary: 'Create up to 1,000 tasks, all or none',
          description:
            'With `Prefer: return=minimal` (RFC 7240), each task is answered as `{ id, identifier, status, version }` ' +
            '(the CreatedTask schema) instead of in full, and the answer carries `Preference-Applied: return=minimal`.',
          body: BatchCreateBody,
          headers: BatchHeaders,
          response: {
            201: json(BatchResponse, 'Created, in the order given', H.preferenceApplied, [BatchMinimalResponse]),
            200: json(
              BatchResponse,
              'The tasks this Idempotency-Key created before, as they are now',
              H.preferenceApplied,
              [BatchMinimalResponse],
            ),
          },
        },
      },
      [
        'VALIDATION_FAILED',
        'URL_NOT_ALLOWED',
        'PAYLOAD_TOO_LARGE',
        'UNKNOWN_DEPENDENCY',
        'DEPENDENCY_CYCLE',
        'IDEMPOTENCY_MISMATCH',
        'CONFLICT',
      ],
    ),
    async (request, reply) => {
      const p = principalOf(request);
      await checkCallbacks(request.body.tasks, checkCallbackUrl);
      const { views, created } = await tasks.createBatch(
        { orgId: p.orgId, keyName: p.keyName },
        request.body,
        request.headers['idempotency-key'],
      );
      reply.code(created ? 201 : 200);
      if (prefersMinimal(request.headers.prefer)) {
        // A producer creating thousands a second has no use for every field echoed back.
        const items = views.map(({ task: t }) => ({
          id: t.id,
          identifier: t.identifier,
          status: t.status,
          version: t.version,
        }));
        // Sent as JSON text: Fastify passes a string with a JSON content type through untouched,
        // where the route's schema (the full task) would otherwise serialize it.
        const body = JSON.stringify({ tasks: items });
        return reply
          .header('preference-applied', 'return=minimal')
          .type('application/json; charset=utf-8')
          .send(body as unknown as Static<typeof BatchResponse>);
      }
      return reply.send({ tasks: views.map((v) => presentTask(v)) });
    },
  );

  app.get(
    '/v1/tasks',
    documented(
      'GET',
      {
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['tasks'],
          summary: 'List tasks, newest first',
          querystring: TaskListQuery,
          response: { 200: json(TaskListResponse, 'A page of tasks') },
        },
      },
      ['VALIDATION_FAILED'],
    ),
    async (request) => {
      const { limit, cursor, ...filters } = request.query;
      const page = await tasks.list(principalOf(request).orgId, toTaskFilter(filters), limit ?? 50, cursor);
      return { items: page.items.map((v) => presentTask(v)), nextCursor: page.nextCursor, hasMore: page.hasMore };
    },
  );

  app.get(
    '/v1/tasks/:taskId',
    documented(
      'GET',
      {
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['tasks'],
          summary: 'Get a task (ETag, If-None-Match, long-poll with ?wait=)',
          params: TaskParams,
          querystring: Type.Object(
            {
              wait: Type.Optional(
                Type.Integer({ minimum: 0, maximum: 60, description: 'Seconds to hold the request' }),
              ),
            },
            { additionalProperties: false },
          ),
          headers: Type.Object({
            'if-none-match': Type.Optional(
              Type.String({ description: '`"N"`, `W/"N"` or `*`: 304 while the task is at that version' }),
            ),
          }),
          response: {
            200: json(TaskSchema, 'The task, with all its steps', { ...H.etag, ...H.pollHint }),
            304: noBody('Not modified: If-None-Match names the current version. No body.', {
              ...H.etag,
              ...H.pollHint,
            }),
          },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request, reply) => {
      const orgId = principalOf(request).orgId;
      const ifNoneMatch = parseEtags(request.headers['if-none-match']);
      const waitS = request.query.wait ?? 0;
      // `If-None-Match: *` matches every version: nothing to wait for.
      const { doc, changed } =
        waitS > 0 && ifNoneMatch !== 'any'
          ? await tasks.waitFor(orgId, request.params.taskId, {
              ifNoneMatch,
              timeoutMs: waitS * 1000,
              signal: requestSignal(reply, shutdown),
            })
          : { doc: await tasks.document(orgId, request.params.taskId), changed: true };
      reply.header('etag', etag(doc.version));
      if (isActive(doc.status)) reply.header('retry-after', String(pollHint(doc.status)));
      const matches = ifNoneMatch === 'any' || (ifNoneMatch !== null && ifNoneMatch.includes(doc.version));
      // No body, and so no Content-Length or Content-Type: a 304 describes the representation the
      // client has (RFC 9110 §15.4.5), and a client that believed a length would wait for a body.
      // (`send(null)` would serialize the schema's null.)
      if (matches || (ifNoneMatch !== null && !changed)) return reply.code(304).send(undefined as unknown as null);
      // The store rendered the body (TaskSchema): sent as it is, with no serializer in between.
      return reply.type('application/json; charset=utf-8').send(doc.json as unknown as Static<typeof TaskSchema>);
    },
  );

  app.patch(
    '/v1/tasks/:taskId',
    documented(
      'PATCH',
      {
        config: { scope: 'tasks:write' },
        schema: {
          tags: ['tasks'],
          summary: 'Change title, description, priority, metadata (merge), labels, assignee, requiresReview',
          params: TaskParams,
          body: TaskPatchBody,
          headers: Type.Object({
            'if-match': Type.Optional(
              Type.String({ description: '`"N"` or `W/"N"`: change only at that version (412 otherwise); `*`: any' }),
            ),
          }),
          response: { 200: json(TaskSchema, 'The task, changed', H.etag) },
        },
      },
      ['NOT_FOUND', 'PRECONDITION_FAILED', 'VALIDATION_FAILED'],
    ),
    async (request, reply) => {
      const ifMatch = parseEtags(request.headers['if-match']);
      const view = await tasks.patch(
        principalOf(request).orgId,
        request.params.taskId,
        request.body,
        ifMatch === 'any' ? null : ifMatch,
      );
      reply.header('etag', etag(view.task.version));
      return presentTask(view);
    },
  );

  app.delete(
    '/v1/tasks/:taskId',
    documented(
      'DELETE',
      {
        config: { scope: 'tasks:write' },
        schema: {
          tags: ['tasks'],
          summary: 'Delete a terminal task',
          params: TaskParams,
          response: { 204: noBody('Deleted, with its steps. No body.') },
        },
      },
      ['NOT_FOUND', 'INVALID_TRANSITION', 'HAS_DEPENDENTS'],
    ),
    async (request, reply) => {
      await tasks.delete(principalOf(request).orgId, request.params.taskId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/tasks/:taskId/steps',
    documented(
      'GET',
      {
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['tasks'],
          summary: 'The whole step history',
          params: TaskParams,
          response: { 200: json(StepsResponse, 'The steps, oldest first') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request) => {
      const steps = await tasks.getSteps(principalOf(request).orgId, request.params.taskId);
      return { steps: steps.map(presentStep) };
    },
  );

  app.post(
    '/v1/tasks/:taskId/steps',
    documented(
      'POST',
      {
        config: { scope: ['tasks:write', 'tasks:work'] },
        schema: {
          tags: ['tasks'],
          summary: 'Append steps (with the lease, or tasks:write on a task no worker holds)',
          params: TaskParams,
          body: StepsAppendBody,
          response: { 200: json(StepsResponse, 'The whole step history, oldest first') },
        },
      },
      ['NOT_FOUND', 'FORBIDDEN', 'LEASE_LOST', 'TASK_CANCELED', 'PAYLOAD_TOO_LARGE'],
    ),
    async (request) => {
      const p = principalOf(request);
      if (request.body.leaseId === undefined && !hasScope(p, 'tasks:write')) {
        throw new TasklaneError('FORBIDDEN', 'Without a lease id, appending steps needs the tasks:write scope.');
      }
      const steps = await tasks.appendSteps(p.orgId, request.params.taskId, request.body.steps, request.body.leaseId);
      return { steps: steps.map(presentStep) };
    },
  );

  app.post(
    '/v1/tasks/:taskId/:action',
    {
      ...documented(
        'POST',
        {
          config: { scope: 'tasks:write' },
          schema: {
            tags: ['tasks'],
            summary: 'start, cancel, retry, block, unblock, approve, reject, archive, unarchive',
            params: Type.Object({
              taskId: TaskParams.properties.taskId,
              action: Type.Union(TASK_ACTIONS.map((a) => Type.Literal(a))),
            }),
            body: TaskActionBody,
            response: { 200: json(TaskSchema, 'The task after the action', H.etag) },
          },
        },
        ['NOT_FOUND', 'INVALID_TRANSITION'],
      ),
      // The body is optional: a request without one is the empty object.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { taskId, action } = request.params;
      const body = request.body;
      const view = await tasks.action(principalOf(request).orgId, taskId, action, {
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.requeue === undefined ? {} : { requeue: body.requeue }),
      });
      reply.header('etag', etag(view.task.version));
      return presentTask(view);
    },
  );
};

export const etag = (version: number): string => `"${version}"`;

/**
 * An If-None-Match / If-Match header: `*`, or a list of entity tags (`"3"`, `W/"3"`). Returns
 * 'any', the versions named (tags that are not ours name no version), or null when absent.
 */
export function parseEtags(header: string | undefined): readonly number[] | 'any' | null {
  if (header === undefined) return null;
  if (header.trim() === '*') return 'any';
  return [...header.matchAll(/(?:W\/)?"(\d{1,15})"/g)].map((m) => Number(m[1]));
}

/** Seconds a poller should wait before asking again (Retry-After while active). */
function pollHint(status: TaskStatus): number {
  return status === 'in_progress' ? 1 : status === 'queued' ? 2 : 5;
}

/** RFC 7240: does a `Prefer` header (preferences separated by commas) ask for `return=minimal`? */
export function prefersMinimal(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  return (Array.isArray(header) ? header : [header]).some((h) =>
    h.split(',').some((pref) => /^\s*return\s*=\s*"?minimal"?\s*(;|$)/i.test(pref)),
  );
}
