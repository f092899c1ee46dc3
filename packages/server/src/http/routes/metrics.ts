/**
 * `GET /metrics`: the node's metrics in the Prometheus text format. Not an API-key route: with a
 * metrics token configured (TASKLANE_METRICS_TOKEN) the scraper sends it as a bearer token, from
 * anywhere; without one only loopback clients are answered, so a node on a public address does not
 * show its figures to the world by default.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { TasklaneError } from '../../domain/errors.js';
import type { Metrics } from '../../service/metrics/metrics.js';
import { bearerToken } from '../auth.js';
import { documented } from '../openapi-answers.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** The bearer token a scraper must send; undefined: loopback clients only. */
  token?: string | undefined;
}

/** 127.0.0.0/8 and ::1; Node's BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) as IPv4. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The peer's address, never a forwarded header: a proxy in front must not open the door. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (isIPv4(address)) return LOOPBACK.check(address, 'ipv4');
  return isIPv6(address) && LOOPBACK.check(address, 'ipv6');
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares digests of equal length in constant time: neither the token nor its length leaks. */
function tokenMatches(given: string | undefined, expected: Buffer): boolean {
  return given !== undefined && timingSafeEqual(digest(given), expected);
}

const schema = documented(
  'GET',
  {
    schema: {
      tags: ['system'],
      summary: 'Metrics in the Prometheus text format (docs/metrics.md)',
      description:
        'With TASKLANE_METRICS_TOKEN set, send it as `Authorization: Bearer <token>`; without it, only ' +
        'loopback clients are answered. Not an API key route.',
      response: {
        200: {
          description: 'Prometheus text exposition format 0.0.4',
          content: { 'text/plain': { schema: Type.String() } },
        },
      },
    },
  },
  ['UNAUTHORIZED', 'FORBIDDEN'],
);

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, token }) => {
  const expected = token === undefined ? null : digest(token);
  const admit = (request: FastifyRequest): void => {
    if (expected !== null) {
      if (!tokenMatches(bearerToken(request.headers.authorization), expected)) {
        throw new TasklaneError('UNAUTHORIZED', 'The metrics token is required (Authorization: Bearer).');
      }
    } else if (!isLoopback(request.raw.socket.remoteAddress)) {
      throw new TasklaneError(
        'FORBIDDEN',
        'Without a metrics token (TASKLANE_METRICS_TOKEN), /metrics answers loopback clients only.',
      );
    }
  };
  app.get('/metrics', schema, async (request, reply) => {
    admit(request);
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
};
