/**
 * The little the client needs of an HTTP exchange: a request in, a whole answer out. Both
 * transports (`transport.ts`, `transport-node.ts`) implement `HttpSend` from here, so neither
 * imports the other for its types.
 */

/** Response headers, read by name (case-insensitive). The WHATWG `Headers` is one. */
export interface AnswerHeaders {
  get(name: string): string | null;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Aborts the request and the reading of its body. */
  signal: AbortSignal;
}

/** A whole answer: status, headers and the body read as text. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: AnswerHeaders;
  text: string;
}

export type HttpSend = (req: HttpRequest) => Promise<HttpAnswer>;
