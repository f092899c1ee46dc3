/**
 * Every error answer: RFC 9457 problem+json with a catalogue code (SPEC §9). Anything that is not
 * a TasklaneError or a recognised client error becomes a bare 500: no stack, no message leaks.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, TasklaneError, type ErrorCode, type FieldError } from '../domain/errors.js';

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

export function sendProblem(reply: FastifyReply, err: TasklaneError): FastifyReply {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  return reply
    .code(err.status)
    .type('application/problem+json; charset=utf-8')
    .send(problemOf(err, String(reply.request.id)));
}

interface AjvError {
  instancePath: string;
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
      return new TasklaneError('PAYLOAD_TOO_LARGE', 'The body is larger than 1 MiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TasklaneError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TasklaneError('MALFORMED_JSON', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TasklaneError('VALIDATION_FAILED', 'Content-Length does not match the body.');
    default:
      break;
  }
  if (fe instanceof SyntaxError || (typeof fe.statusCode === 'number' && fe.statusCode === 400)) {
    return new TasklaneError('MALFORMED_JSON', 'The body is not valid JSON.');
  }
  request.log.error({ err }, 'unhandled error');
  return new TasklaneError('INTERNAL', 'Something went wrong on our side; the request id identifies it in the logs.');
}

function validationError(errors: AjvError[], context: string): TasklaneError {
  const prefix = context === 'body' ? '' : context;
  const fields: FieldError[] = errors.map((e) => {
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
