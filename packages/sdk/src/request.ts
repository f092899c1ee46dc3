/**
 * What a resource needs from the client: one authenticated request, its 2xx answer returned and
 * anything else thrown. `TasklaneClient` (client.ts) is the `Requester` every resource gets, so the
 * resources depend on this contract, not on the client that composes them.
 */
import type { AnswerHeaders } from './http-exchange.js';

type QueryScalar = string | number | boolean;
/** Query parameters; an array repeats the key (`status=a&status=b`), undefined and null are left out. */
export type Query = Record<string, QueryScalar | readonly QueryScalar[] | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
  /** Replaces the client's `timeoutMs` for this request. */
  timeoutMs?: number;
  /** How long the server may hold this request (a long-poll); added to the time limit. */
  holdMs?: number;
  signal?: AbortSignal;
}

/** A 2xx answer. `body` is undefined when there was none (204, 304). */
export interface ApiResponse<T> {
  status: number;
  headers: AnswerHeaders;
  body: T;
}

export interface Requester {
  /**
   * One request. A 2xx or 304 answers its status, headers and parsed JSON body (trusted to match
   * `T`); any other status throws `TasklaneApiError`, no answer at all `TasklaneConnectionError`.
   */
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
}

/** The path of one task, by id or identifier. */
export const taskPath = (id: string): string => `/v1/tasks/${encodeURIComponent(id)}`;

export interface StreamRequestOptions {
  query?: Query;
  /** Sent as `Last-Event-ID`: the stream resumes after it. */
  lastEventId?: number;
  /** Aborts the opening and the reading of the body. */
  signal: AbortSignal;
}

/** A `Requester` that can also hold a Server-Sent Events stream open (client.ts). */
export interface StreamRequester extends Requester {
  /**
   * Opens `path` as `text/event-stream`: resolves with the body once a 2xx head is in (within the
   * client's time limit); any other status throws `TasklaneApiError`, no answer `TasklaneConnectionError`.
   */
  openStream(path: string, opts: StreamRequestOptions): Promise<ReadableStream<Uint8Array>>;
}
