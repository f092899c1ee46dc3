import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client goes away or the server shuts down: held requests end at once.
 * The response's 'close' (not the request's, which fires as soon as the body has been read) tells
 * that the connection ended; it is a departure only if the response was not sent yet.
 */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const gone = new AbortController();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return AbortSignal.any([gone.signal, shutdown]);
}
