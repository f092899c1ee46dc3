/**
 * Event streams (SPEC §10): `GET /v1/events` (the org's, filtered) and `GET /v1/tasks/{taskId}/events`
 * (one task's), as Server-Sent Events, or as one JSON page with `Accept: application/json`. The
 * stream's logic is the service's (service/event-stream.ts); here: the query, the resume point, the
 * head, and the end of every stream when the server stops.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EventPageSchema, EventsQuery, TaskEventsQuery, type EventsParams } from '@tasklane/sdk/schemas';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TasklaneError } from '../../domain/errors.js';
import type { EventQuery, EventService } from '../../service/event-service.js';
import { principalOf } from '../auth.js';
import { pageJson } from '../event-frames.js';
import { documented, header, type Headers } from '../openapi-answers.js';
import { SseResponse } from '../sse-response.js';

export interface EventRoutesOptions {
  events: EventService;
  /** Fires on shutdown: every open stream ends. */
  shutdown: AbortSignal;
  /** How often an idle stream sends a `: keepalive` comment. */
  keepaliveMs: number;
}

/** Events in a page when the request gives no `limit`. */
const DEFAULT_PAGE = 100;

const ResumeHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      pattern: '^[0-9]{0,16}$',
      description: 'The id of the last event received (an EventSource sends it when it reconnects); wins over `after`',
    }),
  ),
});

const STREAM_ONLY: Headers = {
  'Cache-Control': header(Type.Literal('no-cache, no-transform'), 'Only with text/event-stream'),
  'X-Accel-Buffering': header(Type.Literal('no'), 'Only with text/event-stream: proxies pass each frame at once'),
};

const SSE_BODY = Type.String({
  description:
    'Server-Sent Events: `retry: 2000`; an org stream without a resume point then sends `id: <lastId>` alone ' +
    '(no data: where it starts); then one frame per event (`id: <id>`, `event: <type>`, ' +
    '`data: <TaskEvent as JSON>`); `event: reset` (`id: <lastId>`, `data: <EventReset as JSON>`) first when ' +
    'the resume point could not be honoured; a `: keepalive` comment every 15 s on an idle stream. See docs/events.md.',
});

function answer(description: string) {
  return {
    description,
    headers: STREAM_ONLY,
    content: { 'text/event-stream': { schema: SSE_BODY }, 'application/json': { schema: EventPageSchema } },
  };
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, opts) => {
  const { events, shutdown, keepaliveMs } = opts;
  // Held streams would keep app.close() (and a stopping server) waiting for ever.
  shutdown.addEventListener('abort', () => events.endAll(), { once: true });
  app.addHook('preClose', async () => events.endAll());

  /** The page, or the stream (which then outlives the handler). */
  async function serve(request: FastifyRequest, reply: FastifyReply, query: EventQuery, limit: number | undefined) {
    const principal = principalOf(request);
    if (wantsPage(request.headers.accept)) {
      const page = await events.page(principal.orgId, query, limit ?? DEFAULT_PAGE);
      return reply.type('application/json; charset=utf-8').send(pageJson(page));
    }
    const sse = new SseResponse(reply.raw, keepaliveMs);
    const stream = await events.open(principal, query, sse);
    reply.hijack();
    sse.start(stream, reply.getHeaders());
    if (shutdown.aborted) stream.end('shutdown');
    else void stream.run();
    return reply;
  }

  app.get(
    '/v1/events',
    documented(
      'GET',
      {
        // HEAD would open a stream that sends no body and never ends.
        exposeHeadRoute: false,
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['tasks'],
          summary: "The org's events, live (SSE), or one page with Accept: application/json",
          description:
            "Every filter given must match. Without `after` or `Last-Event-ID` the stream starts at the org's " +
            'last event (live from now); the page form then answers no items and `nextAfter` to poll from.',
          querystring: EventsQuery,
          headers: ResumeHeaders,
          response: { 200: answer('The event stream, or a page of events') },
        },
      },
      ['TOO_MANY_STREAMS'],
    ),
    async (request, reply) =>
      serve(request, reply, { ...filtersOf(request.query), ...resumeOf(request) }, request.query.limit),
  );

  app.get(
    '/v1/tasks/:taskId/events',
    documented(
      'GET',
      {
        exposeHeadRoute: false,
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['tasks'],
          summary: "One task's events: its history, then live, until it is terminal or deleted",
          description:
            "Without `after` or `Last-Event-ID` the task's retained history comes first. The stream ends by " +
            'itself once the task is completed, failed or canceled and its events are sent, or after task.deleted.',
          params: Type.Object({ taskId: Type.String({ maxLength: 64, description: 'UUID or identifier (OPS-42)' }) }),
          querystring: TaskEventsQuery,
          headers: ResumeHeaders,
          response: { 200: answer("The task's event stream, or a page of its events") },
        },
      },
      ['NOT_FOUND', 'TOO_MANY_STREAMS'],
    ),
    async (request, reply) =>
      serve(request, reply, { task: request.params.taskId, ...resumeOf(request) }, request.query.limit),
  );
};

function filtersOf(q: EventsParams): EventQuery {
  return {
    ...(q.type === undefined ? {} : { types: q.type }),
    ...(q.taskType === undefined ? {} : { taskType: q.taskType }),
    ...(q.listId === undefined ? {} : { listId: q.listId }),
    ...(q.projectId === undefined ? {} : { projectId: q.projectId }),
  };
}

/** The resume point: Last-Event-ID (what a reconnecting EventSource sends) wins over `after`. */
function resumeOf(request: FastifyRequest): { after?: number } {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') {
    const id = Number(header);
    if (!Number.isSafeInteger(id)) {
      throw new TasklaneError('VALIDATION_FAILED', 'headers/last-event-id must be an event id.', {
        errors: [{ path: 'headers/last-event-id', message: 'must be an integer of at most 2^53 - 1' }],
      });
    }
    return { after: id };
  }
  const after = (request.query as { after?: number }).after;
  return after === undefined ? {} : { after };
}

/** `Accept: application/json` without text/event-stream: the page form. */
function wantsPage(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  return types.includes('application/json') && !types.includes('text/event-stream');
}
