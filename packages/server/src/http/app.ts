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
import { TasklaneError } from '../domain/errors.js';
import { LIMITS } from '../domain/task.js';
import type { AppServices } from '../service/services.js';
import { installAuth, makeAuthenticator } from './auth.js';
import { dialectRoutes } from './dialects/index.js';
import type { MindfortOptions } from './dialects/mindfort.js';
import { installJsonParser, installTextRule } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { sendProblem, toTasklaneError } from './problem.js';
import { adminRoutes } from './routes/admin.js';
import { insightRoutes } from './routes/insights.js';
import { typeRoutes } from './routes/types.js';
import { workerRoutes } from './routes/worker.js';
import { projectRoutes } from './routes/projects.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';

export interface AppOptions {
  services: AppServices;
  /** Requests per second per key (burst twice that); 0 turns it off. */
  rateLimit: number;
  logger?: FastifyServerOptions['logger'];
  /** Fires when the server shuts down, so held long-polls answer at once. */
  shutdown?: AbortSignal;
  /** Settings of the seed products' dialects. */
  dialects?: { mindfort?: MindfortOptions };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Bodies are validated strictly (no type coercion, unknown fields refused); query strings coerce. */
function makeValidators() {
  const base = { allErrors: true, removeAdditional: false, useDefaults: false, strict: false } as const;
  const body = addFormats.default(new Ajv.default({ ...base, coerceTypes: false }));
  const query = addFormats.default(new Ajv.default({ ...base, coerceTypes: 'array' }));
  return { body, query };
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: LIMITS.bodyMaxBytes,
    // Echo a sane X-Request-Id from the client, else make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    // While closing, in-flight and keep-alive requests are answered normally (with a request id);
    // the listener is already closed to new connections.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ajv = makeValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? ajv.body.compile(schema) : ajv.query.compile(schema),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((err, request, reply) => sendProblem(reply, toTasklaneError(err, request)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new TasklaneError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

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
  await app.register(taskRoutes, { tasks: services.tasks, shutdown });
  await app.register(workerRoutes, { workers: services.workers, shutdown });
  await app.register(typeRoutes, { types: services.types });
  await app.register(insightRoutes, { insights: services.insights });
  await app.register(projectRoutes, { projects: services.projects });
  await app.register(adminRoutes, { auth: services.auth });
  await app.register(dialectRoutes, {
    services,
    authenticate,
    shutdown,
    ...(opts.dialects?.mindfort ? { mindfort: opts.dialects.mindfort } : {}),
  });
  return app;
}
