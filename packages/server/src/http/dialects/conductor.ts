/**
 * Orkes Conductor (seed 002) at `/compat/conductor/api`: `GET /tasks/{taskId}` → the Task execution
 * object of the seed, the worker protocol an unmodified Conductor SDK worker speaks (poll, batch poll,
 * `POST /tasks` and `/tasks/update-v2` with a TaskResult, task logs), the queue monitoring an
 * autoscaler reads (`/tasks/queue/sizes`, `/tasks/queue/size`, `/tasks/queue/polldata`) and
 * `POST /token`. Updates by workflow and reference name answer Conductor's 404 for a workflow it does
 * not know: Tasklane has no workflows.
 *
 * Authentication: `X-Authorization: <token>` (Conductor's header; `Bearer <token>` there or in
 * `Authorization` works too). `POST /token {keyId, keySecret}` takes a Tasklane key id and its secret and
 * answers `{token}`, where the token is the key secret itself: it names the key, is revoked with it at
 * once, and holds no new secret material (nothing to sign, nothing kept per node).
 *
 * Conductor reports by task id without a lease: a TaskResult is a worker report under whatever lease
 * the task holds when the service's unit locks it (conductor-report.ts says what Conductor checks).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { TasklaneError } from '../../domain/errors.js';
import { LIMITS, TYPE_PATTERN } from '../../domain/task.js';
import { hasScope } from '../../service/principal.js';
import { bearerToken } from '../auth.js';
import { installTextBodyParser } from '../json-body.js';
import { requestSignal } from '../request-signal.js';
import { TaskResult, applyTaskResult, logLineOf } from './conductor-report.js';
import { presentConductorTask } from './conductor-task.js';
import { bearerOrBare, callerOf, installDialect, type DialectContext } from './dialect-kit.js';

/** The worker id of a poll that names none. */
const ANONYMOUS_WORKER = 'conductor-worker';
const MAX_WAIT_MS = 30_000;

const TaskParams = Type.Object({ taskId: Type.String({ maxLength: 64 }) });
const TypeParams = Type.Object({ taskType: Type.String({ pattern: TYPE_PATTERN }) });

/**
 * Conductor's domains are not Tasklane's (orgs are): a poll's domain is kept with its poll time
 * (poll data) and does not change what it claims.
 */
const PollQuery = Type.Object({
  workerid: Type.Optional(Type.String({ maxLength: LIMITS.nameMaxLength })),
  domain: Type.Optional(Type.String({ maxLength: LIMITS.nameMaxLength })),
});

/** Task types named in a query: one or many (`taskType=a&taskType=b`); a type with no task counts 0. */
const TaskTypes = Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.typeMaxLength }), { maxItems: 100 });

const TokenBody = Type.Object({ keyId: Type.String({ minLength: 1 }), keySecret: Type.String({ minLength: 1 }) });

/** Conductor's header first, then the usual bearer. */
function tokenOf(request: FastifyRequest): string | undefined {
  const x = request.headers['x-authorization'];
  if (typeof x === 'string' && x.trim() !== '') return bearerOrBare(x);
  return bearerToken(request.headers.authorization);
}

export const conductorRoutes: FastifyPluginAsyncTypebox<DialectContext> = async (
  app,
  { services, authenticate, shutdown },
) => {
  const { tasks, workers } = services;
  installDialect(app, {
    authenticate,
    tokenOf,
    render: (err) => ({
      status: err.status,
      body: {
        status: err.status,
        code: err.code,
        message: err.status >= 500 && err.code !== 'STORAGE_UNAVAILABLE' ? 'Internal server error' : err.message,
        instance: 'tasklane',
        retryable: err.code === 'STORAGE_UNAVAILABLE' || err.code === 'RATE_LIMITED',
        // Conductor's ErrorResponse lists field errors as validationErrors [{path, message}].
        ...(err.errors === undefined ? {} : { validationErrors: err.errors }),
      },
    }),
  });
  const read = { dialectScope: 'tasks:read' } as const;
  const work = { dialectScope: 'tasks:work' } as const;

  app.post('/token', { schema: { hide: true, body: TokenBody } }, async (request) => {
    const { keyId, keySecret } = request.body;
    const principal = await authenticate(request, keySecret);
    if (principal.keyId !== keyId) throw new TasklaneError('UNAUTHORIZED', 'A valid API key is required.');
    return { token: keySecret };
  });

  app.get(
    '/tasks/poll/:taskType',
    { config: work, schema: { hide: true, params: TypeParams, querystring: PollQuery } },
    async (request, reply) => {
      const q = request.query;
      const views = await workers.claim(
        callerOf(request).orgId,
        {
          types: [request.params.taskType],
          workerId: q.workerid || ANONYMOUS_WORKER,
          domain: q.domain,
          limit: 1,
          waitMs: 0,
        },
        requestSignal(reply, shutdown),
      );
      const view = views[0];
      return view === undefined ? reply.code(204).send() : presentConductorTask(view);
    },
  );

  app.get(
    '/tasks/poll/batch/:taskType',
    {
      config: work,
      schema: {
        hide: true,
        params: TypeParams,
        querystring: Type.Composite([
          PollQuery,
          Type.Object({
            count: Type.Optional(Type.Integer({ minimum: 1 })),
            timeout: Type.Optional(Type.Integer({ minimum: 0 })),
          }),
        ]),
      },
    },
    async (request, reply) => {
      const q = request.query;
      const views = await workers.claim(
        callerOf(request).orgId,
        {
          types: [request.params.taskType],
          workerId: q.workerid || ANONYMOUS_WORKER,
          domain: q.domain,
          limit: Math.min(q.count ?? 1, 100),
          waitMs: Math.min(q.timeout ?? 100, MAX_WAIT_MS),
        },
        requestSignal(reply, shutdown),
      );
      return views.map(presentConductorTask);
    },
  );

  // The legacy update answers the task id as text; update-v2 may answer the next task, and never does here
  // (a task handed to a worker that is stopping would sit leased until its lease expired). An update
  // Conductor would ignore (the task is no longer in progress) answers the same.
  app.post('/tasks', { config: work, schema: { hide: true, body: TaskResult } }, async (request, reply) => {
    await applyTaskResult(workers, callerOf(request).orgId, request.body);
    return reply.type('text/plain; charset=utf-8').send(request.body.taskId);
  });

  app.post('/tasks/update-v2', { config: work, schema: { hide: true, body: TaskResult } }, async (request, reply) => {
    await applyTaskResult(workers, callerOf(request).orgId, request.body);
    return reply.type('application/json; charset=utf-8').send('null');
  });

  // Monitoring: queue depth by type (what autoscalers read), and who last polled a type.
  app.get(
    '/tasks/queue/sizes',
    { config: read, schema: { hide: true, querystring: Type.Object({ taskType: Type.Optional(TaskTypes) }) } },
    async (request) =>
      Object.fromEntries(await workers.queueSizes(callerOf(request).orgId, request.query.taskType ?? [])),
  );

  app.get(
    '/tasks/queue/size',
    {
      config: read,
      schema: {
        hide: true,
        querystring: Type.Object({ taskType: Type.String({ minLength: 1, maxLength: LIMITS.typeMaxLength }) }),
      },
    },
    async (request) => {
      const type = request.query.taskType;
      return (await workers.queueSizes(callerOf(request).orgId, [type])).get(type) ?? 0;
    },
  );

  app.get(
    '/tasks/queue/polldata',
    {
      config: read,
      schema: {
        hide: true,
        querystring: Type.Object({ taskType: Type.String({ minLength: 1, maxLength: LIMITS.typeMaxLength }) }),
      },
    },
    async (request) =>
      // Conductor's PollData; like Conductor's JSON, a null domain is left out.
      workers.pollData(callerOf(request).orgId, request.query.taskType).map((p) => ({
        queueName: p.type,
        ...(p.domain === null ? {} : { domain: p.domain }),
        workerId: p.workerId,
        lastPollTime: p.lastPollTime,
      })),
  );

  // Updates by workflow id and task reference name (and their /sync form): Tasklane has no workflows, so
  // no workflow has a running task of that name; answered as Conductor's /sync form answers that (its
  // plain form answers 200 with an empty body and applies nothing, which a client would take for done).
  const noWorkflow = async (request: FastifyRequest) => {
    const { workflowId, taskRefName } = request.params as { workflowId: string; taskRefName: string };
    throw new TasklaneError('NOT_FOUND', `Found no running task ${taskRefName} of workflow ${workflowId} to update`);
  };
  const WorkflowParams = Type.Object({
    workflowId: Type.String({ maxLength: 64 }),
    taskRefName: Type.String({ maxLength: 200 }),
    status: Type.String({ maxLength: 64 }),
  });
  for (const path of ['/tasks/:workflowId/:taskRefName/:status', '/tasks/:workflowId/:taskRefName/:status/sync']) {
    app.post(path, { config: work, schema: { hide: true, params: WorkflowParams } }, noWorkflow);
  }

  app.get('/tasks/:taskId', { config: read, schema: { hide: true, params: TaskParams } }, async (request) =>
    presentConductorTask(await tasks.get(callerOf(request).orgId, request.params.taskId)),
  );

  app.get('/tasks/:taskId/log', { config: read, schema: { hide: true, params: TaskParams } }, async (request) => {
    const { task, steps } = await tasks.get(callerOf(request).orgId, request.params.taskId);
    return steps.map((s) => ({ log: s.message, taskId: task.id, createdTime: s.time }));
  });

  // The body is text, not JSON, on this route alone (its own scope, its own parser): see logLineOf.
  await app.register(async (scope) => {
    installTextBodyParser(scope);
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/tasks/:taskId/log',
      {
        config: { dialectScope: ['tasks:work', 'tasks:write'] },
        schema: { hide: true, params: TaskParams, body: Type.String({ minLength: 1 }) },
      },
      async (request, reply) => {
        const p = callerOf(request);
        const message = logLineOf(request.body);
        // A task a worker holds takes steps under its lease (the caller reports for that worker); one no
        // worker holds takes them from a key with tasks:write, as natively.
        const { task } = await tasks.get(p.orgId, request.params.taskId);
        if (task.lease === null && !hasScope(p, 'tasks:write')) {
          throw new TasklaneError(
            'FORBIDDEN',
            "Without a worker holding the task, adding a log needs the 'tasks:write' scope.",
          );
        }
        await tasks.appendSteps(p.orgId, task.id, [{ message }], task.lease?.id);
        return reply.code(200).send();
      },
    );
  });
};
