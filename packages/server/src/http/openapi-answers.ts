/**
 * What each operation answers, in one place. A route states its success answers and the catalogue
 * codes its handler raises; `documented()` adds every error answer the framework around the handler
 * can give (authentication, body parsing, validation, the router), derived from the catalogue and
 * from the route itself, and the security requirement its `config.scope` enforces. The result is
 * the route's `response` map, so the serializer and /openapi.json read the same schemas: problem
 * answers under application/problem+json, as problem.ts sends them.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifySchema } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors.js';
import { SCOPES, type Scope } from '../domain/scope.js';
import { hasScope } from '../service/principal.js';
import { ERROR_CODES, problemSchema } from './openapi.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What about a route, besides its handler, makes an error answer possible. */
type Condition =
  /** It needs a key (`config.scope`): the key is checked, then the rate limit, then the scope. */
  | 'authenticated'
  /** Some key can hold none of the scopes it names (a route any key may call never answers 403). */
  | 'scoped'
  /** Every method but GET: Fastify reads a body when one is sent (json-body.ts), taken or not. */
  | 'body'
  /** It has a schema for its params, query string, headers or body. */
  | 'input'
  /** It has path parameters, which Fastify's router decodes and measures before any route runs. */
  | 'pathParams'
  /** Anything may fail unexpectedly. */
  | 'always';

/**
 * When each code of the catalogue can be answered, besides by the routes that name it among the
 * codes their handler raises ([]: only there). A code added to the catalogue must be placed here;
 * the compiler says so.
 */
const WHEN = {
  // The schemas; json-body.ts's text, number, depth and prototype-key rules; a path parameter
  // that is not valid percent-encoding or not valid text (problem.ts, the router's errors); the
  // service's content rules on what a body carries (service/task-rules.ts).
  VALIDATION_FAILED: ['input', 'body', 'pathParams'],
  MALFORMED_JSON: ['body'],
  UNAUTHORIZED: ['authenticated'],
  FORBIDDEN: ['scoped'],
  NOT_FOUND: [],
  ROUTE_NOT_FOUND: [], // no route matched: the answer of no operation
  METHOD_NOT_ALLOWED: [], // the path exists with other methods: the answer of no operation
  REQUEST_TIMEOUT: ['body'], // the body did not arrive within the request timeout
  URI_TOO_LONG: ['pathParams'], // a path parameter longer than the router allows
  HEADERS_TOO_LARGE: [], // Node refuses the request before any route is known
  INVALID_TRANSITION: [],
  LEASE_LOST: [],
  TASK_CANCELED: [],
  CONFLICT: [],
  URL_NOT_ALLOWED: [],
  HAS_DEPENDENTS: [],
  PRECONDITION_FAILED: [],
  KEY_IS_CALLER: [],
  LAST_ADMIN_KEY: [],
  // A body over 1 MiB (json-body.ts); a payload it carries over 256 KiB (service/task-rules.ts).
  PAYLOAD_TOO_LARGE: ['body'],
  UNSUPPORTED_MEDIA_TYPE: ['body'],
  IDEMPOTENCY_MISMATCH: [],
  DEPENDENCY_CYCLE: [],
  UNKNOWN_DEPENDENCY: [],
  RATE_LIMITED: ['authenticated'],
  TOO_MANY_STREAMS: [],
  INTERNAL: ['always'],
  STORAGE_UNAVAILABLE: ['authenticated'], // authentication reads the store
} as const satisfies Record<ErrorCode, readonly Condition[]>;

// ---- headers -------------------------------------------------------------------------------------

/**
 * A response header: its value's schema and what it says. A header sent with only some answers of
 * its status says when, in a description that begins with "Only" (@fastify/swagger renders no
 * `required` flag for response headers; the openapi-responses test reads this instead).
 */
export type HeaderSchema = TSchema & { description: string };
export type Headers = Record<string, HeaderSchema>;

export const header = (schema: TSchema, description: string): HeaderSchema => ({ ...schema, description });

const REQUEST_ID_VALUE = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });
const REQUEST_ID =
  'The request id: the X-Request-Id sent, when it is 1-128 characters of [A-Za-z0-9._:-], else a new UUID';

/** Response headers the routes name for their success answers. */
export const ANSWER_HEADERS = {
  etag: { ETag: header(Type.String({ pattern: '^"[0-9]+"$' }), 'The task\'s version as an entity tag (`"7"`)') },
  location: { Location: header(Type.String({ pattern: '^/v1/tasks/' }), 'The URL of the task') },
  pollHint: {
    'Retry-After': header(
      Type.String({ pattern: '^[0-9]+$' }),
      'Only while the task is active: seconds to wait before polling again (1 in_progress, 2 queued, 5 otherwise)',
    ),
  },
  preferenceApplied: {
    'Preference-Applied': header(
      Type.Literal('return=minimal'),
      'Only when the request sent `Prefer: return=minimal`: the tasks are answered as CreatedTask',
    ),
  },
} as const satisfies Record<string, Headers>;

/** Headers a problem answer carries with one code (problem.ts, auth.ts, worker-service.ts). */
const CODE_HEADERS: Partial<Record<ErrorCode, Headers>> = {
  UNAUTHORIZED: { 'WWW-Authenticate': header(Type.Literal('Bearer'), 'The authentication scheme: Bearer') },
  RATE_LIMITED: {
    'Retry-After': header(Type.String({ pattern: '^[0-9]+$' }), 'Seconds to wait before sending again'),
  },
};

// ---- success answers -----------------------------------------------------------------------------

/** A response entry in the form Fastify and @fastify/swagger both read: per status, per media type. */
interface Answer {
  description: string;
  headers?: Headers;
  content?: Record<string, { schema: TSchema }>;
  /** Bodies the handler sends already serialized (no serializer in between): documented as alternatives. */
  alsoSent?: readonly TSchema[];
}

/** A JSON answer. `alsoSent`: other bodies the handler sends as JSON text, documented with this one. */
export function json<S extends TSchema>(
  schema: S,
  description: string,
  headers: Headers = {},
  alsoSent: readonly TSchema[] = [],
): { description: string; headers: Headers; content: { 'application/json': { schema: S } } } {
  return {
    description,
    headers,
    content: { 'application/json': { schema } },
    ...(alsoSent.length ? { alsoSent } : {}),
  };
}

/** An answer without a body (204, 304). A null schema, which is what the serializer needs to see. */
export function noBody(description: string, headers: Headers = {}) {
  return Type.Null({ description, headers });
}

// ---- documented() --------------------------------------------------------------------------------

interface RouteShape {
  config?: { scope?: Scope | readonly Scope[] };
  schema: FastifySchema & { response?: Record<number, unknown> };
}

/**
 * The route options with the schema's `response` map completed: success answers as given (each
 * with X-Request-Id), and every error answer the route can give, derived from the catalogue (WHEN),
 * from `method`, the route's schema and scope, and from `raises`, the codes its handler raises.
 * `security` says the scopes `config.scope` enforces ([] for a public route).
 */
export function documented<O extends RouteShape>(method: Method, options: O, raises: readonly ErrorCode[] = []): O {
  const scope = options.config?.scope;
  const scopes: readonly Scope[] = scope === undefined ? [] : typeof scope === 'string' ? [scope] : scope;
  const schema = options.schema;
  const conditions = new Set<Condition>(['always']);
  if (scopes.length > 0) conditions.add('authenticated');
  if (lackingScope(scopes) !== undefined) conditions.add('scoped');
  if (method !== 'GET') conditions.add('body');
  if ([schema.body, schema.params, schema.querystring, schema.headers].some((s) => s !== undefined)) {
    conditions.add('input');
  }
  if (schema.params !== undefined) conditions.add('pathParams');

  const served: Record<number, unknown> = {};
  const shown: Record<number, unknown> = {};
  let alternatives = false;
  for (const [status, given] of Object.entries(schema.response ?? {})) {
    const { alsoSent, ...answer } = successAnswer(given as TSchema | Answer);
    served[Number(status)] = answer;
    shown[Number(status)] = alsoSent === undefined ? answer : withAlternatives(answer, alsoSent);
    alternatives ||= alsoSent !== undefined;
  }
  for (const [status, answer] of errorAnswers(conditions, raises)) {
    served[status] = merge(served[status] as Answer | undefined, answer);
    shown[status] = merge(shown[status] as Answer | undefined, answer);
  }
  // The document shows the alternatives; the serializer, which never sees them, is not given them.
  const config = alternatives
    ? {
        ...options.config,
        swaggerTransform: ({ schema: s, url }: { schema: FastifySchema; url: string }) => ({
          schema: { ...s, response: shown },
          url,
        }),
      }
    : options.config;
  return {
    ...options,
    ...(config === undefined ? {} : { config }),
    schema: { ...schema, security: scopes.map((s) => ({ bearer: [s] })), response: served },
  };
}

/**
 * A scope a key can hold (root is the operator's, never a key's alone) that meets none of
 * `scopes`, so that a key holding only it is refused 403; undefined when every key gets through.
 */
export function lackingScope(scopes: readonly Scope[]): Scope | undefined {
  if (scopes.length === 0) return undefined;
  return SCOPES.find((c) => c !== 'root' && !scopes.some((s) => hasScope({ scopes: [c] }, s)));
}

/** A success entry as given (an Answer, a null schema, or a bare schema: JSON), with X-Request-Id. */
function successAnswer(given: TSchema | Answer): Answer {
  const requestId = { 'X-Request-Id': header(REQUEST_ID_VALUE, REQUEST_ID) };
  if ('content' in given && typeof given.content === 'object') {
    const answer = given as Answer;
    return { ...answer, headers: { ...requestId, ...answer.headers } };
  }
  const schema = given as TSchema & { headers?: Headers };
  if (schema.type === 'null') return { ...schema, headers: { ...requestId, ...schema.headers } } as unknown as Answer;
  return {
    description: schema.description ?? 'Success',
    headers: requestId,
    content: { 'application/json': { schema } },
  };
}

function withAlternatives(answer: Answer, alsoSent: readonly TSchema[]): Answer {
  const content = Object.fromEntries(
    Object.entries(answer.content ?? {}).map(([media, { schema }]) => [
      media,
      { schema: Type.Union([schema, ...alsoSent]) },
    ]),
  );
  return { ...answer, content };
}

/** Two answers of one status (a route's own, and the errors derived for it) as one. */
function merge(a: Answer | undefined, b: Answer): Answer {
  if (a === undefined) return b;
  return {
    description: `${a.description}. ${b.description}`,
    headers: { ...b.headers, ...a.headers },
    content: { ...a.content, ...b.content },
  };
}

/** The error answers, by status, that the conditions and the raised codes make possible. */
function errorAnswers(conditions: ReadonlySet<Condition>, raises: readonly ErrorCode[]): Map<number, Answer> {
  const codes = ERROR_CODES.filter(
    (code) => raises.includes(code) || WHEN[code].some((w: Condition) => conditions.has(w)),
  );
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const answers = new Map<number, Answer>();
  for (const [status, group] of byStatus) {
    answers.set(status, {
      description: group.map((c) => `${c}: ${ERROR_CATALOGUE[c].title}`).join('; '),
      headers: { 'X-Request-Id': header(REQUEST_ID_VALUE, REQUEST_ID), ...codeHeaders(group) },
      content: { 'application/problem+json': { schema: problemSchema(group, status) } },
    });
  }
  return answers;
}

/** Headers every code of a group carries are sent with the status; others only with their code. */
function codeHeaders(group: readonly ErrorCode[]): Headers {
  const out: Headers = {};
  for (const code of group) {
    for (const [name, h] of Object.entries(CODE_HEADERS[code] ?? {})) {
      const always = group.every((c) => CODE_HEADERS[c]?.[name] !== undefined);
      out[name] = always ? h : { ...h, description: `Only with ${code}: ${h.description}` };
    }
  }
  return out;
}
