/**
 * The HTTP app factory: builds a Fastify instance with every route, and never listens (tests use
 * `app.inject()`; `serve` listens). Transport only: every decision is the service's.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LIMITS } from '../domain/task.js';
import type { AppServices } from '../service/services.js';
import { installAuth, makeAuthenticator } from './auth.js';
import { dialectRoutes } from './dialects/index.js';
import type { MindfortOptions } from './dialects/mindfort.js';
import { installJsonParser, installTextRule } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { answerClientError, answerFrameworkError, ErrorRenderers, errorHandler, renderProblem } from './problem.js';
import { adminRoutes } from './routes/admin.js';
import { bulkRoutes } from './routes/bulk.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { insightRoutes } from './routes/insights.js';
import { metricsRoutes } from './routes/metrics.js';
import { orgRoutes } from './routes/org.js';
import { typeRoutes } from './routes/types.js';
import { workerRoutes } from './routes/worker.js';
import { projectRoutes } from './routes/projects.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';
import { typeThroughputRoutes } from './routes/type-throughput.js';
import { whoamiRoutes } from './routes/whoami.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface AppOptions {
  services: AppServices;
  /** Requests per second per key (burst twice that); 0 turns it off. */
  rateLimit: number;
  logger?: FastifyServerOptions['logger'];
  /** Fires when the server shuts down, so held long-polls answer at once. */
  shutdown?: AbortSignal;
  /** Settings of the seed products' dialects. */
  dialects?: { mindfort?: MindfortOptions };
  /**
   * How long a client may take to send a whole request (line, headers, body) before it is answered
   * 408 REQUEST_TIMEOUT and the connection closed; once a request has arrived, answering it (a
   * long-poll, an event stream) takes as long as it takes. Default 30 s; 0 turns it off (Node's own
   * 60 s limit on headers still holds).
   */
  requestTimeoutMs?: number;
  /** Event streams: how often an idle one sends a `: keepalive` comment (default 15 s). */
  events?: { keepaliveMs?: number };
  /** GET /metrics: the bearer token it requires; without one it answers loopback clients only. */
  metrics?: { token?: string | undefined };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The longest path parameter the router decodes; a longer one is 414 URI_TOO_LONG. */
const MAX_PARAM_LENGTH = 200;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEPALIVE_MS = 15_000;

/** A sane X-Request-Id from the client, else a new one. */
function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Bodies are validated strictly (no type coercion, unknown fields refused); query strings coerce. */
function makeValidators() {
  const base = { allErrors: true, removeAdditional: false, useDefaults: false, strict: false } as const;
  const body = addFormats.default(new Ajv.default({ ...base, coerceTypes: false }));
  const query = addFormats.default(new Ajv.default({ ...base, coerceTypes: 'array' }));
  return { body, query };
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  const requestTimeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Node reports a broken or late request to the server, not to a route: the handler needs the app.
  let built: FastifyInstance | null = null;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: LIMITS.bodyMaxBytes,
    genReqId: (req) => requestIdOf(req.headers),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    // While closing, in-flight and keep-alive requests are answered normally (with a request id);
    // the listener is already closed to new connections.
    return503OnClosing: false,
    // Every error Fastify or Node raises before a route runs is a catalogue error too, in the shape
    // of the prefix the URL falls under.
    frameworkErrors: (err, request, reply) => answerFrameworkError(err, request, reply, MAX_PARAM_LENGTH),
    clientErrorHandler: (err, socket) =>
      built === null ? socket.destroy() : answerClientError(built, err, socket, requestIdOf, requestTimeoutMs),
    requestTimeout: requestTimeoutMs,
    // Node checks for late requests every connectionsCheckingInterval (30 s by default): often
    // enough that a timeout fires within a tenth of itself late.
    http:
      requestTimeoutMs > 0
        ? {
            requestTimeout: requestTimeoutMs,
            headersTimeout: Math.min(60_000, requestTimeoutMs),
            connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(requestTimeoutMs / 10))),
          }
        : {},
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('errorRenderers', new ErrorRenderers());
  built = app;

  const ajv = makeValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? ajv.body.compile(schema) : ajv.query.compile(schema),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Every answered request, by route pattern; a hijacked one (an event stream) is not answered here.
  app.addHook('onResponse', (request, reply, done) => {
    services.metrics.observeRequest(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  const answerError = errorHandler(renderProblem, { methodNotAllowed: true });
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((request, reply) => answerError(null, request, reply));

  installJsonParser(app);
  // Before authentication, as a URL the router cannot decode is refused before it.
  installTextRule(app);
  // One authenticator (and so one per-key rate limit) for the native API and every dialect.
  const authenticate = makeAuthenticator({ auth: services.auth, rateLimit: opts.rateLimit });
  installAuth(app, authenticate);

  await app.register(swagger, { openapi: openApiDocument });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(import('./routes/error-page.js'));

  const shutdown = opts.shutdown ?? new AbortController().signal;
  await app.register(systemRoutes, { store: services.store });
  await app.register(metricsRoutes, { metrics: services.metrics, token: opts.metrics?.token });
  await app.register(taskRoutes, {
    tasks: services.tasks,
    shutdown,
    checkCallbackUrl: (url, path) => services.webhooks.checkUrl(url, path),
  });
  await app.register(workerRoutes, { workers: services.workers, shutdown });
  await app.register(eventRoutes, {
    events: services.events,
    shutdown,
    keepaliveMs: opts.events?.keepaliveMs ?? KEEPALIVE_MS,
  });
  await app.register(typeRoutes, { types: services.types });
  await app.register(insightRoutes, { insights: services.insights });
  await app.register(projectRoutes, { projects: services.projects });
  await app.register(adminRoutes, { auth: services.auth });
  await app.register(orgRoutes, { org: services.org });
  await app.register(whoamiRoutes);
  await app.register(webhookRoutes, { webhooks: services.webhooks });
  await app.register(bulkRoutes, { bulk: services.bulk });
  await app.register(typeThroughputRoutes, { throughput: services.throughput });
  await app.register(dashboardRoutes);
  await app.register(dialectRoutes, {
    services,
    authenticate,
    shutdown,
    ...(opts.dialects?.mindfort ? { mindfort: opts.dialects.mindfort } : {}),
  });
  return app;
}
