/** What the client throws: the server's problem answer (`TasklaneApiError`), or no answer at all. */
import type { Problem } from './schemas/problem.js';

export type FieldError = NonNullable<Problem['errors']>[number];

/** A non-2xx answer. `code` is from the server's catalogue (SPEC §9), or `HTTP_<status>` for a non-problem body. */
export class TasklaneApiError extends Error {
  override readonly name = 'TasklaneApiError';
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** The server's request id (problem body, else the X-Request-Id header), to quote in a bug report. */
  readonly requestId: string | null;
  /** Per-field validation errors, when the server gave them. */
  readonly errors: FieldError[] | undefined;
  /** Seconds to wait before trying again (`Retry-After` of 429 and 503), when the server said. */
  readonly retryAfter: number | null;
  /** The problem body as answered, or null when the body was not problem+json. */
  readonly problem: Problem | null;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    requestId: string | null;
    errors?: FieldError[] | undefined;
    retryAfter: number | null;
    problem: Problem | null;
  }) {
    super(`${init.code}: ${init.detail}`);
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors;
    this.retryAfter = init.retryAfter;
    this.problem = init.problem;
  }
}

/** The request got no HTTP answer: the server is unreachable, or `timeoutMs` passed. The fetch error is `cause`. */
export class TasklaneConnectionError extends Error {
  override readonly name = 'TasklaneConnectionError';
  readonly timedOut: boolean;

  constructor(message: string, opts: { cause: unknown; timedOut: boolean }) {
    super(message, { cause: opts.cause });
    this.timedOut = opts.timedOut;
  }
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (SPEC §8, RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
