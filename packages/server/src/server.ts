/**
 * Wires config → store → services → HTTP app, and owns start and graceful stop. The CLI's
 * `serve` and the end-to-end tests both start the server through here.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config/config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { TasklaneError } from './domain/errors.js';
import { buildApp } from './http/app.js';
import { deliveryBody } from './http/event-frames.js';
import { writeRootKeyFile } from './root-key.js';
import type { GivenRootKey } from './service/auth-service.js';
import { createServices } from './service/services.js';
import type { DispatcherOptions } from './service/webhook-dispatcher.js';
import { openStore } from './storage/open-store.js';
import type { TaskStore } from './storage/task-store.js';

export interface RunningServer {
  app: FastifyInstance;
  store: TaskStore;
  url: string;
  /** The root key this start put into an empty database (generated, or TASKLANE_ROOT_KEY's), else null. */
  rootKey: string | null;
  /**
   * Where the root key came from: `created` by this start (then written to `rootKeyFile`), taken
   * from the configuration (`TASKLANE_ROOT_KEY`: never printed, never written), or already in the
   * `database`. Only a `created` key is the server's to show.
   */
  rootKeyOrigin: 'created' | 'environment' | 'database';
  /** For `environment`: what the database says of that key (`valid`, or why it will not work). */
  givenRootKey: GivenRootKey | null;
  rootKeyFile: string | null;
  /** Stop accepting, answer held long-polls, finish in-flight requests, close storage. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: boolean;
  /** Where log lines go (default: pino's JSON lines on stdout); `serve` passes a pretty printer on a terminal. */
  logStream?: { write(line: string): void };
  /** Told each time storage is not reachable at start (default: a line on stderr). */
  onWaiting?: (err: unknown, retryInMs: number) => void;
  /** The webhook dispatcher's settings beyond the configuration's (tests: a short schedule, a resolver). */
  webhooks?: Omit<Partial<DispatcherOptions>, 'renderEvent'>;
  /** Event streams' timings and limits beyond the configuration's (tests, benchmarks). */
  events?: { keepaliveMs?: number; pollIntervalMs?: number; maxQueuedBytes?: number };
}

type LoggerOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

/**
 * The node's logger. Fastify logs two lines per request at `info` ('incoming request', then
 * 'request completed'); workers long-poll and heartbeat all the time, so at `info` those lines
 * bury everything else. Here a request is one line at `debug` (the completed one, with its method
 * and URL added), and the incoming one moves to `trace`. Warnings and errors (a 5xx with its
 * cause, under the request id) are unchanged.
 */
export function loggerOptions(level: string, stream?: { write(line: string): void }): LoggerOptions {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    hooks: {
      logMethod(args, method, lineLevel) {
        const [fields, message] = args;
        if (lineLevel === 30 && message === 'incoming request') return this.trace(fields, message);
        if (lineLevel === 30 && message === 'request completed' && typeof fields === 'object' && fields !== null) {
          const reply = (fields as { res?: { request?: unknown } }).res;
          return this.debug({ req: reply?.request, ...fields }, message);
        }
        return method.apply(this, args);
      },
    },
  };
}

const defaultOnWaiting = (err: unknown, retryInMs: number) =>
  process.stderr.write(
    `storage not reachable (${err instanceof Error ? err.message : String(err)}); retrying in ${retryInMs} ms\n`,
  );

/**
 * A node started while its database is down waits for it instead of crashing: STORAGE_UNAVAILABLE
 * at start is retried with growing pauses (up to 5 s); any other error (a bad schema, a database
 * newer than the code) stops the start.
 */
async function untilStorageAnswers(
  step: () => Promise<void>,
  onWaiting: (err: unknown, ms: number) => void,
): Promise<void> {
  let pause = 250;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof TasklaneError && err.code === 'STORAGE_UNAVAILABLE')) throw err;
      onWaiting(err, pause);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 5000);
    }
  }
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const store = openStore(config.databaseUrl, clock, { pool: config.dbPool, schema: config.dbSchema });
  await untilStorageAnswers(() => store.migrate(), opts.onWaiting ?? defaultOnWaiting);
  const services = createServices(store, {
    clock,
    maintenance: { onError: (err) => process.stderr.write(`maintenance: ${String(err)}\n`) },
    webhooks: {
      allowPrivate: config.webhookAllowPrivate,
      renderEvent: deliveryBody,
      onError: (err) => process.stderr.write(`webhooks: ${String(err)}\n`),
      ...opts.webhooks,
    },
    events: {
      maxStreamsPerKey: config.maxStreamsPerKey,
      // The events stay in the store: the next wake or poll reads them, a client resumes.
      onError: (err) => process.stderr.write(`event streams: ${String(err)}\n`),
      ...(opts.events?.pollIntervalMs === undefined ? {} : { pollIntervalMs: opts.events.pollIntervalMs }),
      ...(opts.events?.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: opts.events.maxQueuedBytes }),
    },
  });
  const { rootKey, given: givenRootKey } = await services.auth.bootstrap(config.rootKey);
  const rootKeyOrigin = config.rootKey !== undefined ? 'environment' : rootKey !== null ? 'created' : 'database';
  const rootKeyFile =
    rootKeyOrigin === 'created' && rootKey !== null ? writeRootKeyFile(config.dataDir, rootKey) : null;
  const shutdown = new AbortController();
  const app = await buildApp({
    services,
    rateLimit: config.rateLimit,
    logger: opts.logger === false ? false : loggerOptions(config.logLevel, opts.logStream),
    shutdown: shutdown.signal,
    dialects: { mindfort: { canceledStatus: config.mindfortCanceledStatus } },
    ...(opts.events?.keepaliveMs === undefined ? {} : { events: { keepaliveMs: opts.events.keepaliveMs } }),
    metrics: { token: config.metricsToken },
  });
  // Responses not finished yet (a response's 'close' fires whether it was sent or abandoned).
  const inFlight = new Set<ServerResponse>();
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  const address = await app.listen({ host: config.host, port: config.port });
  services.maintenance.start();
  services.dispatcher.start();
  if (config.webhookAllowPrivate) {
    app.log.warn('TASKLANE_WEBHOOK_ALLOW_PRIVATE is on: webhooks may reach loopback and private addresses');
  }
  let closing: Promise<void> | null = null;
  return {
    app,
    store,
    url: address.replace('[::1]', 'localhost'),
    rootKey,
    rootKeyOrigin,
    givenRootKey,
    rootKeyFile,
    close: () => {
      closing ??= (async () => {
        // Held long-polls answer and event streams end at once.
        shutdown.abort();
        await services.maintenance.stop();
        await services.dispatcher.stop();
        // app.close() stops accepting and waits for in-flight requests; a keep-alive connection
        // that never sent a request would hold it forever, so once nothing is in flight every
        // remaining connection is cut.
        const closed = app.close();
        const sweep = setInterval(() => {
          if (inFlight.size === 0) app.server.closeAllConnections();
        }, 25);
        try {
          await closed;
        } finally {
          clearInterval(sweep);
        }
        services.events.close();
        await store.close();
      })();
      return closing;
    },
  };
}
