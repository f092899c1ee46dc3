/**
 * Every error answer: RFC 9457 problem+json with a catalogue code (SPEC §9), or a product's own body
 * under a dialect's prefix. Anything that is not a TasklaneError or a recognised client error becomes
 * a bare 500: no stack, no message leaks. Errors Fastify and Node raise before a route runs (a URL
 * that does not decode, a parameter too long, a request that breaks HTTP or never finishes) are
 * mapped here too, and answered by the renderer of the prefix the URL falls under.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CATALOGUE, TasklaneError, type ErrorCode, type FieldError } from '../domain/errors.js';
import { LIMITS } from '../domain/task.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export function problemOf(err: TasklaneError, requestId: string): ProblemBody {
  return {
    type: `/docs/errors#${err.code.toLowerCase()}`,
    title: ERROR_CATALOGUE[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId,
    ...(err.errors === undefined ? {} : { errors: err.errors }),
  };
}

/** One error answer, whatever its shape. */
export interface ErrorAnswer {
  status: number;
  contentType: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A catalogue error as one API's answer: problem+json natively, a product's body in a dialect. */
export type ErrorRenderer = (err: TasklaneError, requestId: string) => ErrorAnswer;

export const renderProblem: ErrorRenderer = (err, requestId) => ({
  status: err.status,
  contentType: 'application/problem+json; charset=utf-8',
  body: problemOf(err, requestId),
  headers: { ...err.headers, ...(err.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer' } : {}) },
});

/**
 * The renderer of each dialect by URL prefix, for errors raised before routing picks a scope (whose
 * error handler would otherwise choose); every other URL is answered as problem+json.
 */
export class ErrorRenderers {
  private readonly byPrefix: Array<[string, ErrorRenderer]> = [];

  add(prefix: string, render: ErrorRenderer): void {
    this.byPrefix.push([prefix, render]);
  }

  /** Whether a dialect answers this URL (a route miss there is its 404, never a 405). */
  isDialect(url: string): boolean {
    return this.dialectOf(url) !== undefined;
  }

  for(url: string): ErrorRenderer {
    return this.dialectOf(url) ?? renderProblem;
  }

  private dialectOf(url: string): ErrorRenderer | undefined {
    const path = pathOf(url);
    return this.byPrefix.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1];
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The dialects' error renderers by prefix: decorated once on the root by buildApp and shared by
     * every scope (absent when a dialect plugin is registered on a bare Fastify, as some tests do).
     */
    errorRenderers?: ErrorRenderers;
  }
}

export function sendAnswer(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v);
  return reply.code(answer.status).type(answer.contentType).send(answer.body);
}

export function sendProblem(reply: FastifyReply, err: TasklaneError): FastifyReply {
  return sendAnswer(reply, renderProblem(err, String(reply.request.id)));
}

interface AjvError {
  instancePath: string;
  schemaPath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Map anything thrown in a request to a catalogue error. */
export function toTasklaneError(err: unknown, request: FastifyRequest): TasklaneError {
  if (err instanceof TasklaneError) {
    if (err.status >= 500) request.log.error({ err, cause: err.cause }, err.message);
    return err;
  }
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fe.validation)) return validationError(fe.validation, fe.validationContext ?? 'body');
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TasklaneError('PAYLOAD_TOO_LARGE', `The body is larger than ${LIMITS.bodyMaxBytes} bytes (1 MiB).`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
      return new TasklaneError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TasklaneError('MALFORMED_JSON', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TasklaneError('VALIDATION_FAILED', 'Content-Length does not match the body.');
    default:
      break;
  }
  // A body whose stream broke off, which Fastify marks as the client's fault.
  if (fe.statusCode === 400) {
    request.log.info({ err }, 'request body unreadable');
    return new TasklaneError('VALIDATION_FAILED', 'The request body could not be read.');
  }
  request.log.error({ err }, 'unhandled error');
  return new TasklaneError('INTERNAL', 'Something went wrong on our side; the request id identifies it in the logs.');
}

function validationError(errors: AjvError[], context: string): TasklaneError {
  const prefix = context === 'body' ? '' : context;
  const fields: FieldError[] = oneOfConstants(errors).map((e) => {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path = `${path}/${e.params.additionalProperty}`;
      message = 'is not a field of this request';
    }
    return { path: prefix + (path === '' && prefix === '' ? '/' : path), message };
  });
  // Unions report one error per branch; keep each distinct message once.
  const unique = [...new Map(fields.map((f) => [`${f.path} ${f.message}`, f])).values()];
  return new TasklaneError('VALIDATION_FAILED', unique.map((f) => `${f.path} ${f.message}`).join('; '), {
    errors: unique,
  });
}

/**
 * A union of literals (an action name, a status) fails with one `const` error per literal and an
 * `anyOf`; Ajv's words for that ("must be equal to constant; must match a schema in anyOf") name no
 * value a client could send, so they become one error that lists the values.
 */
function oneOfConstants(errors: AjvError[]): AjvError[] {
  const replaced = new Set<AjvError>();
  const merged = new Map<AjvError, AjvError>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branches = errors.filter(
      (b) => b !== e && b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`),
    );
    if (branches.length === 0 || branches.some((b) => b.keyword !== 'const')) continue;
    for (const b of branches) replaced.add(b);
    const values = branches.map((b) => String(b.params.allowedValue));
    merged.set(e, { ...e, message: `must be one of: ${values.join(', ')}` });
  }
  return errors.flatMap((e) => merged.get(e) ?? (replaced.has(e) ? [] : [e]));
}

const pathOf = (url: string): string => url.split('?')[0] ?? url;

/** The methods some route serves at this concrete path, in the router's order (for Allow). */
export function allowedMethods(app: FastifyInstance, path: string): string[] {
  // The router "finds" its bad-URL handler for a path that does not decode, whatever the method.
  const probe = markSegments(path, (segment) => decodeSegment(segment) === null).path;
  return app.supportedMethods.filter((method) => app.findRoute({ method, url: probe }) !== null);
}

/**
 * No route for this method and URL: 405 METHOD_NOT_ALLOWED with `Allow` when the path serves other
 * methods and the API answers 405s (the native one; a dialect answers its product's 404, as
 * docs/dialects.md says), else 404 ROUTE_NOT_FOUND.
 */
export function routeMiss(app: FastifyInstance, method: string, url: string, methodNotAllowed: boolean): TasklaneError {
  const path = pathOf(url);
  if (methodNotAllowed) {
    const allowed = allowedMethods(app, path);
    if (allowed.length > 0) {
      return new TasklaneError(
        'METHOD_NOT_ALLOWED',
        `${path} does not take ${method}; it takes ${allowed.join(', ')}.`,
        {
          headers: { allow: allowed.join(', ') },
        },
      );
    }
  }
  return new TasklaneError('ROUTE_NOT_FOUND', `No route ${method} ${path}.`);
}

/**
 * The error handler (and, with no error, the not-found handler) of a scope that answers with `render`.
 * On a URL no route takes, the route miss is the answer, whatever its body or headers did.
 */
export function errorHandler(render: ErrorRenderer, opts: { methodNotAllowed: boolean }) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const e = request.is404
      ? routeMiss(request.server, request.method, request.url, opts.methodNotAllowed)
      : toTasklaneError(err, request);
    return sendAnswer(reply, render(e, String(request.id)));
  };
}

/**
 * Fastify's `frameworkErrors`: the router could not take the URL. FST_ERR_BAD_URL (a path segment
 * that is not percent-encoded UTF-8: `%ED%A0%80` is a lone surrogate, `%ZZ` no escape at all) is
 * VALIDATION_FAILED and FST_ERR_MAX_PARAM_LENGTH is URI_TOO_LONG, each naming the route's parameter
 * when the path, with that segment replaced, names a route; when it names none, the answer is the
 * route miss it would have been.
 */
export function answerFrameworkError(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  maxParamLength: number,
): FastifyReply {
  const app = request.server;
  reply.header('x-request-id', request.id);
  let e: TasklaneError;
  if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
    const located = locateSegments(app, request.method, request.url, (segment) => {
      const decoded = decodeSegment(segment);
      return tooLong ? (decoded ?? segment).length > maxParamLength : decoded === null;
    });
    const message = tooLong ? `is longer than ${maxParamLength} characters` : 'is not valid percent-encoded UTF-8';
    if (located === 'no route') e = routeMiss(app, request.method, request.url, !isDialect(app, request.url));
    else {
      const errors = located.map((name) => ({ path: `params/${name}`, message }));
      const detail =
        errors.length > 0 ? errors.map((f) => `${f.path} ${f.message}`).join('; ') : `A path segment ${message}`;
      e = new TasklaneError(
        tooLong ? 'URI_TOO_LONG' : 'VALIDATION_FAILED',
        detail,
        errors.length > 0 ? { errors } : {},
      );
    }
  } else {
    e = toTasklaneError(err, request);
  }
  return sendAnswer(reply, rendererOf(app, request.url)(e, String(request.id)));
}

const rendererOf = (app: FastifyInstance, url: string): ErrorRenderer => app.errorRenderers?.for(url) ?? renderProblem;
const isDialect = (app: FastifyInstance, url: string): boolean => app.errorRenderers?.isDialect(url) === true;

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The path with each `bad` segment replaced by a mark the router can match as a parameter. */
function markSegments(path: string, bad: (segment: string) => boolean): { path: string; marks: string[] } {
  const marks: string[] = [];
  const marked = path
    .split('/')
    .map((segment, i) => {
      if (!bad(segment)) return segment;
      marks.push(`tasklane-segment-${i}`);
      return `tasklane-segment-${i}`;
    })
    .join('/');
  return { path: marked, marks };
}

/**
 * The names of the route parameters whose segments are `bad`, found by asking the router about the
 * path with each bad segment marked; 'no route' when that path names none.
 */
function locateSegments(
  app: FastifyInstance,
  method: string,
  url: string,
  bad: (segment: string) => boolean,
): string[] | 'no route' {
  const { path, marks } = markSegments(pathOf(url), bad);
  const route = app.findRoute({ method, url: path });
  if (route === null) return 'no route';
  return Object.entries(route.params as Record<string, string>)
    .filter(([, value]) => marks.some((m) => value.includes(m)))
    .map(([name]) => name);
}

/** What Node's HTTP parser reports through `clientError` (`rawPacket`: the bytes it had read). */
export interface ClientError extends Error {
  code?: string;
  rawPacket?: unknown;
}

/**
 * Fastify's `clientErrorHandler`: Node refused the request before Fastify saw one (it breaks HTTP/1.1,
 * its line and headers overflow, or it did not arrive within requestTimeout). Answered on the socket
 * in the shape of the prefix its URL falls under (the in-flight request's, or the request line's), as
 * Node would with its bare default, then the connection is closed.
 */
export function answerClientError(
  app: FastifyInstance,
  err: ClientError,
  socket: Socket,
  requestIdOf: (headers: IncomingHttpHeaders) => string,
  requestTimeoutMs: number,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // An answer already under way on this socket cannot be replaced: cut it.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1') : '';
  const line = /^(\S+) (\S+) HTTP\/\d\.\d\r?\n/.exec(raw);
  const method = inFlight?.req.method ?? line?.[1];
  const url = inFlight?.req.url ?? line?.[2];
  let e: TasklaneError;
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      e = new TasklaneError(
        'REQUEST_TIMEOUT',
        `The request (line, headers and body) did not arrive within ${requestTimeoutMs / 1000} s.`,
      );
      break;
    case 'HPE_HEADER_OVERFLOW':
      e = new TasklaneError('HEADERS_TOO_LARGE', 'The request line and headers are larger than 16 KiB.');
      break;
    case 'HPE_INVALID_METHOD':
      // A method Node's parser does not know: no route takes it, whatever the path.
      e =
        method !== undefined && url !== undefined
          ? routeMiss(app, method, url, !isDialect(app, url))
          : new TasklaneError('VALIDATION_FAILED', 'The request method is not an HTTP method.');
      break;
    default:
      app.log.info({ err }, 'client error');
      e = new TasklaneError('VALIDATION_FAILED', `The request is not valid HTTP/1.1 (${err.code ?? 'unreadable'}).`);
  }
  const requestId = requestIdOf(inFlight?.req.headers ?? {});
  const answer = (url === undefined ? renderProblem : rendererOf(app, url))(e, requestId);
  const body = JSON.stringify(answer.body);
  const head = [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}`,
    `content-type: ${answer.contentType}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    `x-request-id: ${requestId}`,
    ...Object.entries(answer.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
