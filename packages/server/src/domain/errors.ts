/**
 * The one error catalogue. Every `code` a client can see is listed here with its HTTP status and
 * a title; docs/errors.md must list every entry (a test checks it).
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The body is not valid JSON' },
  URL_NOT_ALLOWED: { status: 400, title: 'Webhooks may not be sent to this URL' },
  UNAUTHORIZED: { status: 401, title: 'A valid API key is required' },
  FORBIDDEN: { status: 403, title: 'The key lacks the scope this needs' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The route does not take this method' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  INVALID_TRANSITION: { status: 409, title: 'The task cannot make this transition from its status' },
  LEASE_LOST: { status: 409, title: 'The lease is not the current one' },
  TASK_CANCELED: { status: 409, title: 'The task was canceled' },
  CONFLICT: { status: 409, title: 'The resource conflicts with the current state' },
  HAS_DEPENDENTS: { status: 409, title: 'Active tasks depend on this task' },
  KEY_IS_CALLER: { status: 409, title: 'A key cannot revoke itself' },
  LAST_ADMIN_KEY: { status: 409, title: 'The last admin key of an org cannot be revoked' },
  PRECONDITION_FAILED: { status: 412, title: 'The resource changed (If-Match)' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The body or a field is too large' },
  URI_TOO_LONG: { status: 414, title: 'A path segment is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Only application/json is accepted' },
  IDEMPOTENCY_MISMATCH: { status: 422, title: 'The idempotency key was used with another body' },
  DEPENDENCY_CYCLE: { status: 422, title: 'The dependencies form a cycle' },
  UNKNOWN_DEPENDENCY: { status: 422, title: 'A dependency does not exist' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  TOO_MANY_STREAMS: { status: 429, title: 'This key holds as many open event streams as it may' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request line and headers are too large' },
  INTERNAL: { status: 500, title: 'Internal error' },
  STORAGE_UNAVAILABLE: { status: 503, title: 'Storage is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  /** JSON Pointer into the request (`/tasks/3/type`), or the parameter name. */
  path: string;
  message: string;
}

/** An error with a catalogue code: the only kind of error a client ever sees the detail of. */
export class TasklaneError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  /** Extra response headers (Retry-After for RATE_LIMITED). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail ?? ERROR_CATALOGUE[code].title, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TasklaneError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.errors = opts.errors;
    this.headers = opts.headers;
  }
}

export function isTasklaneError(err: unknown): err is TasklaneError {
  return err instanceof TasklaneError;
}
