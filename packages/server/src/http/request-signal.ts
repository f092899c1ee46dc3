import type { FastifyRequest } from 'fastify';

/** Aborts when the client goes away or the server shuts down: held requests end at once. */
export function requestSignal(request: FastifyRequest, shutdown: AbortSignal): AbortSignal {
  const gone = new AbortController();
  request.raw.once('close', () => gone.abort());
  return AbortSignal.any([gone.signal, shutdown]);
}
