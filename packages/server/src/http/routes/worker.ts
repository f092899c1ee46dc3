/** The worker API (SPEC §5): claim, heartbeat, complete, fail, release, batched reports. Scope tasks:work. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ClaimBody,
  ClaimOneBody,
  ClaimResponse,
  CompleteBody,
  FailBody,
  HeartbeatBody,
  HeartbeatResponse,
  ReleaseBody,
  ReportsBody,
  ReportsResponse,
  TaskSchema,
} from '@tasklane/sdk/schemas';
import type { WorkerService } from '../../service/worker-service.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { iso, presentTask } from '../presenters.js';
import { requestSignal } from '../request-signal.js';

const TaskParams = Type.Object({ taskId: Type.String({ maxLength: 64 }) });
const leased = { showLeaseId: true } as const;

export const workerRoutes: FastifyPluginAsyncTypebox<{ workers: WorkerService; shutdown: AbortSignal }> = async (
  app,
  { workers, shutdown },
) => {
  const config = { scope: 'tasks:work' } as const;

  app.post(
    '/v1/tasks/claim',
    documented('POST', {
      config,
      schema: {
        tags: ['workers'],
        summary: 'Claim queued tasks of some types (long-poll with waitMs)',
        body: ClaimBody,
        response: {
          200: json(ClaimResponse, 'The tasks claimed, each with its lease; none when nothing was claimable in time'),
        },
      },
    }),
    async (request, reply) => {
      const b = request.body;
      const views = await workers.claim(
        principalOf(request).orgId,
        { types: b.types, workerId: b.workerId, limit: b.limit ?? 1, leaseMs: b.leaseMs, waitMs: b.waitMs ?? 0 },
        requestSignal(reply, shutdown),
      );
      return { tasks: views.map((v) => presentTask(v, leased)) };
    },
  );

  app.post(
    '/v1/tasks/reports',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Many heartbeats, completions, failures and releases in one request, each applied on its own',
          body: ReportsBody,
          response: { 200: json(ReportsResponse, 'One result per report, in order; a failed report is a result too') },
        },
      },
      ['PAYLOAD_TOO_LARGE'],
    ),
    async (request) => {
      const results = await workers.reports(principalOf(request).orgId, request.body.reports);
      return {
        results: results.map((r) =>
          r.ok
            ? { taskId: r.taskId, ok: true, status: r.task.status, version: r.task.version }
            : {
                taskId: r.taskId,
                ok: false,
                error: { code: r.error.code, status: r.error.status, detail: r.error.message },
              },
        ),
      };
    },
  );

  app.post(
    '/v1/tasks/:taskId/claim',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Claim one given task',
          params: TaskParams,
          body: ClaimOneBody,
          response: { 200: json(TaskSchema, 'The task, claimed, with its lease') },
        },
      },
      ['NOT_FOUND', 'INVALID_TRANSITION', 'RATE_LIMITED'],
    ),
    async (request) =>
      presentTask(await workers.claimOne(principalOf(request).orgId, request.params.taskId, request.body), leased),
  );

  app.post(
    '/v1/tasks/:taskId/heartbeat',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Extend the lease; report progress and steps',
          params: TaskParams,
          body: HeartbeatBody,
          response: { 200: json(HeartbeatResponse, 'The lease, extended') },
        },
      },
      ['NOT_FOUND', 'LEASE_LOST', 'TASK_CANCELED', 'PAYLOAD_TOO_LARGE'],
    ),
    async (request) => {
      const view = await workers.heartbeat(principalOf(request).orgId, request.params.taskId, request.body);
      return { leaseExpiresAt: iso(view.task.lease?.expiresAt ?? 0), task: presentTask(view, leased) };
    },
  );

  app.post(
    '/v1/tasks/:taskId/complete',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Complete (or ask for review)',
          params: TaskParams,
          body: CompleteBody,
          response: { 200: json(TaskSchema, 'The task, completed or waiting for review') },
        },
      },
      ['NOT_FOUND', 'LEASE_LOST', 'TASK_CANCELED', 'PAYLOAD_TOO_LARGE'],
    ),
    async (request) =>
      presentTask(await workers.complete(principalOf(request).orgId, request.params.taskId, request.body)),
  );

  app.post(
    '/v1/tasks/:taskId/fail',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Fail this attempt (retried per policy unless retryable: false)',
          params: TaskParams,
          body: FailBody,
          response: { 200: json(TaskSchema, 'The task, queued for a retry or failed') },
        },
      },
      ['NOT_FOUND', 'LEASE_LOST', 'TASK_CANCELED', 'PAYLOAD_TOO_LARGE'],
    ),
    async (request) => presentTask(await workers.fail(principalOf(request).orgId, request.params.taskId, request.body)),
  );

  app.post(
    '/v1/tasks/:taskId/release',
    documented(
      'POST',
      {
        config,
        schema: {
          tags: ['workers'],
          summary: 'Give the task back without spending a retry',
          params: TaskParams,
          body: ReleaseBody,
          response: { 200: json(TaskSchema, 'The task, queued again') },
        },
      },
      ['NOT_FOUND', 'LEASE_LOST', 'TASK_CANCELED'],
    ),
    async (request) =>
      presentTask(await workers.release(principalOf(request).orgId, request.params.taskId, request.body)),
  );
};
