/**
 * Authentication, per-key rate limit and scope check, in that order, before the body is even read
 * (onRequest). A route opts in by naming the scope it needs in `config.scope`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TasklaneError } from '../domain/errors.js';
import type { AuthService } from '../service/auth-service.js';
import { hasScope, type Principal } from '../service/principal.js';
import type { Scope } from '../domain/scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, docs). */
    scope?: Scope | readonly Scope[];
  }
}

export interface AuthOptions {
  auth: AuthService;
  /** Requests per second per key; burst twice that; 0 turns the limit off. */
  rateLimit: number;
}

/** One answer for every bad key, whatever was wrong with it. */
export const unauthorized = () => new TasklaneError('UNAUTHORIZED', 'A valid API key is required.');

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Authenticates and rate-limits one request; `Principal` or a 401/429 TasklaneError. */
export function makeAuthenticator(
  opts: AuthOptions,
): (request: FastifyRequest, token: string | undefined) => Promise<Principal> {
  // 2·rate points per 2 s window: `rate` per second on average, bursts of up to twice that.
  const limiter = opts.rateLimit > 0 ? new RateLimiterMemory({ points: opts.rateLimit * 2, duration: 2 }) : null;
  return async (_request, token) => {
    const principal = await opts.auth.authenticate(token);
    if (principal === null) throw unauthorized();
    if (limiter !== null) {
      try {
        await limiter.consume(principal.keyId);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
        throw new TasklaneError('RATE_LIMITED', `This key sent more than ${opts.rateLimit} requests per second.`, {
          headers: { 'retry-after': String(seconds) },
        });
      }
    }
    return principal;
  };
}

export function installAuth(app: FastifyInstance, authenticate: ReturnType<typeof makeAuthenticator>): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const principal = await authenticate(request, bearerToken(request.headers.authorization));
    const needed: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
    if (!needed.some((s) => hasScope(principal, s))) {
      throw new TasklaneError('FORBIDDEN', `This key lacks the '${needed.join("' or '")}' scope.`);
    }
    request.principal = principal;
  });
}

/** The principal of an authenticated route (installAuth ran). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw unauthorized();
  return request.principal;
}
