/**
 * The seed products' dialects (SPEC §11), each mounted under its prefix as a thin adapter over the same
 * services: a client of that product works with only its base URL and key changed. See docs/dialects.md.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AppServices } from '../../service/services.js';
import { capyRoutes } from './capy.js';
import { conductorRoutes } from './conductor.js';
import type { Authenticate, DialectContext } from './dialect-kit.js';
import { guardianRoutes } from './guardian.js';
import { mindfortRoutes, type MindfortOptions } from './mindfort.js';
import { quantRoutes } from './quant.js';

export interface DialectOptions {
  services: AppServices;
  /** The native API's authenticator: one rate limit per key across native and dialect routes. */
  authenticate: Authenticate;
  /** Fires on shutdown: held polls answer at once. */
  shutdown?: AbortSignal;
  mindfort?: MindfortOptions;
}

export const DIALECT_PREFIXES = {
  mindfort: '/compat/mindfort',
  capy: '/compat/capy',
  conductor: '/compat/conductor/api',
  quant: '/compat/quant/api/v3',
  guardian: '/compat/guardian',
} as const;

export const dialectRoutes: FastifyPluginAsync<DialectOptions> = async (app, opts) => {
  const ctx: DialectContext = {
    services: opts.services,
    authenticate: opts.authenticate,
    shutdown: opts.shutdown ?? new AbortController().signal,
  };
  await app.register(mindfortRoutes, {
    ...ctx,
    prefix: DIALECT_PREFIXES.mindfort,
    ...(opts.mindfort ? { mindfort: opts.mindfort } : {}),
  });
  await app.register(capyRoutes, { ...ctx, prefix: DIALECT_PREFIXES.capy });
  await app.register(conductorRoutes, { ...ctx, prefix: DIALECT_PREFIXES.conductor });
  await app.register(quantRoutes, { ...ctx, prefix: DIALECT_PREFIXES.quant });
  await app.register(guardianRoutes, { ...ctx, prefix: DIALECT_PREFIXES.guardian });
};
