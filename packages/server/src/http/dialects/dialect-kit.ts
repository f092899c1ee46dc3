/**
 * What every dialect shares: its own error answer (not problem+json) on its scope, authentication
 * with the product's header, the native create body checked once against the native schema, and text
 * cut without breaking a character.
 * A dialect is transport only: every decision is the services'.
 */
import { TaskCreateBody, type TaskCreate } from '@tasklane/sdk/schemas';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TasklaneError, type ErrorCode } from '../../domain/errors.js';
import { LIMITS } from '../../domain/task.js';
import { hasScope, type Principal } from '../../service/principal.js';
import type { Scope } from '../../domain/scope.js';
import type { AppServices } from '../../service/services.js';
import type { makeAuthenticator } from '../auth.js';
import { errorHandler, type ErrorRenderer } from '../problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a dialect route needs (any of them); the dialect's own hook checks it. */
    dialectScope?: Scope | readonly Scope[];
  }
}

export type Authenticate = ReturnType<typeof makeAuthenticator>;

/** What a dialect module gets: the services, one authenticator for every dialect, the shutdown signal. */
export interface DialectContext {
  services: AppServices;
  authenticate: Authenticate;
  shutdown: AbortSignal;
}

/** One error answer in a product's terms. */
export interface DialectAnswer {
  status: number;
  body: unknown;
}

/**
 * A product's rendering of a catalogue error (which status, which body). `request` is the request
 * being answered, or only its id when Node refused the request before Fastify made one.
 */
export type RenderError = (err: TasklaneError, request: Pick<FastifyRequest, 'id'>) => DialectAnswer;

/**
 * On the dialect's (encapsulated, prefixed) scope: every error, including body-parser and validation
 * errors and unknown routes under the prefix, is mapped to the catalogue first (no stack ever leaks),
 * then rendered in the product's shape; and each route's `dialectScope` is checked before the body is read.
 * The renderer is also registered under the prefix, for errors raised before routing (a URL that does
 * not decode, a request that breaks HTTP or times out).
 */
export function installDialect(
  app: FastifyInstance,
  opts: { authenticate: Authenticate; tokenOf: (request: FastifyRequest) => string | undefined; render: RenderError },
): void {
  const render: ErrorRenderer = (err, requestId) => {
    const answer = opts.render(err, { id: requestId });
    return {
      status: answer.status,
      contentType: 'application/json; charset=utf-8',
      body: answer.body,
      headers: { ...err.headers },
    };
  };
  app.errorRenderers?.add(app.prefix, render);
  const answer = errorHandler(render, { methodNotAllowed: false });
  app.setErrorHandler(answer);
  app.setNotFoundHandler((request, reply) => answer(null, request, reply));
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.dialectScope;
    if (scope === undefined) return;
    request.principal = await authorize(opts.authenticate, request, opts.tokenOf(request), scope);
  });
}

/** Authenticate (401 / 429) and check that the key holds one of `scope` (403). */
export async function authorize(
  authenticate: Authenticate,
  request: FastifyRequest,
  token: string | undefined,
  scope: Scope | readonly Scope[],
): Promise<Principal> {
  const principal = await authenticate(request, token);
  const needed: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
  if (!needed.some((s) => hasScope(principal, s))) {
    throw new TasklaneError('FORBIDDEN', `This key lacks the '${needed.join("' or '")}' scope.`);
  }
  return principal;
}

/** The principal the dialect hook established for this request. */
export function callerOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new TasklaneError('UNAUTHORIZED', 'A valid API key is required.');
  return request.principal;
}

/** The catalogue code → HTTP status of one product, with the catalogue's own status as the default. */
export function statusFor(err: TasklaneError, table: Partial<Record<ErrorCode, number>>): number {
  return table[err.code] ?? err.status;
}

/** The catalogue's 5xx codes: what a product's "service unavailable" or "internal error" answer covers. */
export const isServerFault = (err: TasklaneError): boolean => err.status >= 500;

const validator = addFormats.default(
  new Ajv.default({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, removeAdditional: false }),
);
const checkCreate = validator.compile(TaskCreateBody);

/**
 * A native create body a dialect composed from its product's fields, checked against the one native
 * schema (the limits of title, input, labels, … are the native ones, never restated here).
 */
export function nativeCreate(body: TaskCreate): TaskCreate {
  if (!checkCreate(body)) {
    const errors = (checkCreate.errors ?? []).map((e) => ({
      path: e.instancePath || '/',
      message: e.message ?? 'is invalid',
    }));
    throw new TasklaneError('VALIDATION_FAILED', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });
  }
  return body;
}

/** A title from free text (a prompt, a message): its first line, cut to the native maximum. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return line === '' ? 'Untitled task' : cutText(line, LIMITS.titleMaxLength);
}

/**
 * Text cut to at most `max` characters, never inside a surrogate pair: a cut there would leave a lone
 * surrogate, which the service refuses (and PostgreSQL cannot store).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** `Authorization: Bearer <token>`, or the bare token some products send. */
export function bearerOrBare(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:Bearer[ ]+)?(\S+)\s*$/i.exec(header.trim());
  return match?.[1];
}

/** Anything JSON as an object: objects as they are, null as null, any other value under `value`. */
export function asObject(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}
