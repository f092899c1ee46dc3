/**
 * Orkes Conductor (seed 002) at `/compat/conductor/api`: `GET /tasks/{taskId}` → the Task execution
 * object of the seed, the worker protocol an unmodified Conductor SDK worker speaks (poll, batch poll,
 * `POST /tasks` and `/tasks/update-v2` with a TaskResult, task logs) and `POST /token`.
 *
 * Authentication: `X-Authorization: <token>` (Conductor's header; `Bearer <token>` there or in
 * `Authorization` works too). `POST /token {keyId, keySecret}` takes a Tasklane key id and its secret and
 * answers `{token}`, where the token is the key secret itself: it names the key, is revoked with it at
 * once, and holds no new secret material (nothing to sign, nothing kept per node).
 *
 * Conductor reports by task id without a lease; the dialect reads the task's current lease and hands it
 * to the worker service, which still fences inside its unit of work. A `workerId` in the TaskResult
 * must be the worker holding the task.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { TasklaneError } from '../../domain/errors.js';
import { LIMITS, TYPE_PATTERN, type Json, type Task } from '../../domain/task.js';
import { hasScope } from '../../service/principal.js';
import { bearerToken } from '../auth.js';
import { requestSignal } from '../request-signal.js';
import { presentConductorTask } from './conductor-task.js';
import { bearerOrBare, callerOf, currentLease, installDialect, type DialectContext } from './dialect-kit.js';

/** The worker id of a poll that names none. */
const ANONYMOUS_WORKER = 'conductor-worker';
const MAX_WAIT_MS = 30_000;

const TaskParams = Type.Object({ taskId: Type.String({ maxLength: 64 }) });
const TypeParams = Type.Object({ taskType: Type.String({ pattern: TYPE_PATTERN }) });

/** Optional, and null where an SDK serializes absent fields as null. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** The fields of a TaskResult Tasklane reads; SDKs send more, which are accepted and ignored. */
const TaskResult = Type.Object({
  taskId: Type.String({ minLength: 1, maxLength: 64 }),
  status: Type.String(),
  workflowInstanceId: Nullable(Type.String()),
  outputData: Nullable(Type.Record(Type.String(), Type.Unknown())),
  reasonForIncompletion: Nullable(Type.String()),
  callbackAfterSeconds: Nullable(Type.Integer({ minimum: 0 })),
  extendLease: Nullable(Type.Boolean()),
  workerId: Nullable(Type.String()),
  logs: Nullable(Type.Array(Type.Object({ log: Type.String() }))),
});
type TaskResultBody = Static<typeof TaskResult>;

/** The statuses a worker reports (the others are the server's to set). */
const REPORTED: ReadonlySet<string> = new Set(['IN_PROGRESS', 'COMPLETED', 'FAILED', 'FAILED_WITH_TERMINAL_ERROR']);

/** Conductor's domains are not Tasklane's (orgs are): the domain is accepted and ignored. */
const PollQuery = Type.Object({
  workerid: Type.Optional(Type.String({ maxLength: 200 })),
  domain: Type.Optional(Type.String()),
});

const TokenBody = Type.Object({ keyId: Type.String({ minLength: 1 }), keySecret: Type.String({ minLength: 1 }) });

/** Conductor's header first, then the usual bearer. */
function tokenOf(request: FastifyRequest): string | undefined {
  const x = request.headers['x-authorization'];
  if (typeof x === 'string' && x.trim() !== '') return bearerOrBare(x);
  return bearerToken(request.headers.authorization);
}

/** Log lines become steps, cut to the native step limits. */
function stepsOf(logs: TaskResultBody['logs']): Array<{ message: string }> {
  return (logs ?? [])
    .filter((l) => l.log.trim() !== '')
    .map((l) => ({ message: l.log.slice(0, LIMITS.stepMessageMaxLength) }));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
      },
    }),
  });
  const read = { dialectScope: 'tasks:read' } as const;
  const work = { dialectScope: 'tasks:work' } as const;

  /** Apply one TaskResult through the worker service; its logs go in first, as steps. */
  async function applyResult(orgId: string, r: TaskResultBody): Promise<Task> {
    if (!REPORTED.has(r.status)) {
      throw new TasklaneError('VALIDATION_FAILED', `A worker reports ${[...REPORTED].join(', ')}, not ${r.status}.`, {
        errors: [{ path: '/status', message: 'is not a status a worker reports' }],
      });
    }
    const workerId = r.workerId === null || r.workerId === undefined || r.workerId === '' ? undefined : r.workerId;
    const { task, leaseId } = await currentLease(tasks, orgId, r.taskId, workerId);
    for (const chunk of chunks(stepsOf(r.logs), LIMITS.stepsPerCallMax)) {
      await tasks.appendSteps(orgId, task.id, chunk, leaseId);
    }
    const output = r.outputData ?? null;
    switch (r.status) {
      case 'IN_PROGRESS': {
        if (r.extendLease === true) return (await workers.heartbeat(orgId, task.id, { leaseId })).task;
        // Conductor's "call me back later": the task is put back, due after callbackAfterSeconds.
        const delayMs = Math.min((r.callbackAfterSeconds ?? 0) * 1000, LIMITS.delayMaxMs);
        return (await workers.release(orgId, task.id, { leaseId, delayMs })).task;
      }
      case 'COMPLETED':
        return (await workers.complete(orgId, task.id, { leaseId, result: output as Json })).task;
      default: {
        const message = r.reasonForIncompletion?.trim() || 'The worker reported a failure.';
        const details = output === null || Object.keys(output).length === 0 ? {} : { details: output };
        const retryable = r.status === 'FAILED';
        return (await workers.fail(orgId, task.id, { leaseId, error: { message, ...details }, retryable })).task;
      }
    }
  }

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
        { types: [request.params.taskType], workerId: q.workerid || ANONYMOUS_WORKER, limit: 1, waitMs: 0 },
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
          limit: Math.min(q.count ?? 1, 100),
          waitMs: Math.min(q.timeout ?? 100, MAX_WAIT_MS),
        },
        requestSignal(reply, shutdown),
      );
      return views.map(presentConductorTask);
    },
  );

  // The legacy update answers the task id as text; update-v2 may answer the next task, and never does here
  // (a task handed to a worker that is stopping would sit leased until its lease expired).
  app.post('/tasks', { config: work, schema: { hide: true, body: TaskResult } }, async (request, reply) => {
    const task = await applyResult(callerOf(request).orgId, request.body);
    return reply.type('text/plain; charset=utf-8').send(task.id);
  });

  app.post('/tasks/update-v2', { config: work, schema: { hide: true, body: TaskResult } }, async (request, reply) => {
    await applyResult(callerOf(request).orgId, request.body);
    return reply.type('application/json; charset=utf-8').send('null');
  });

  app.get('/tasks/:taskId', { config: read, schema: { hide: true, params: TaskParams } }, async (request) =>
    presentConductorTask(await tasks.get(callerOf(request).orgId, request.params.taskId)),
  );

  app.get('/tasks/:taskId/log', { config: read, schema: { hide: true, params: TaskParams } }, async (request) => {
    const { task, steps } = await tasks.get(callerOf(request).orgId, request.params.taskId);
    return steps.map((s) => ({ log: s.message, taskId: task.id, createdTime: s.time }));
  });

  app.post(
    '/tasks/:taskId/log',
    {
      config: { dialectScope: ['tasks:work', 'tasks:write'] },
      schema: { hide: true, params: TaskParams, body: Type.String({ minLength: 1 }) },
    },
    async (request, reply) => {
      const p = callerOf(request);
      const orgId = p.orgId;
      // A task a worker holds takes steps under its lease (the caller reports for that worker); one no
      // worker holds takes them from a key with tasks:write, as natively.
      const { task, leaseId } = await currentLease(tasks, orgId, request.params.taskId);
      if (task.lease === null && !hasScope(p, 'tasks:write')) {
        throw new TasklaneError(
          'FORBIDDEN',
          "Without a worker holding the task, adding a log needs the 'tasks:write' scope.",
        );
      }
      const message = request.body.slice(0, LIMITS.stepMessageMaxLength);
      await tasks.appendSteps(orgId, task.id, [{ message }], task.lease === null ? undefined : leaseId);
      return reply.code(200).send();
    },
  );
};
