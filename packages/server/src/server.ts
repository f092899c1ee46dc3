/**
 * Wires config → store → services → HTTP app, and owns start and graceful stop. The CLI's
 * `serve` and the end-to-end tests both start the server through here.
 */
import type { FastifyInstance } from 'fastify';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Config } from './config/config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { buildApp } from './http/app.js';
import { createServices } from './service/services.js';
import { openStore } from './storage/open-store.js';
import type { TaskStore } from './storage/task-store.js';

export interface RunningServer {
  app: FastifyInstance;
  store: TaskStore;
  url: string;
  /** The root key when this start created it (first start on an empty database). */
  rootKey: string | null;
  rootKeyFile: string | null;
  /** Stop accepting, answer held long-polls, finish in-flight requests, close storage. */
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: boolean } = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const store = openStore(config.databaseUrl, clock);
  await store.migrate();
  const services = createServices(store, {
    clock,
    maintenance: { onError: (err) => process.stderr.write(`maintenance: ${String(err)}\n`) },
  });
  const { rootKey } = await services.auth.bootstrap(config.rootKey);
  let rootKeyFile: string | null = null;
  if (rootKey !== null && config.rootKey === undefined) {
    mkdirSync(config.dataDir, { recursive: true });
    rootKeyFile = join(config.dataDir, 'root-key');
    writeFileSync(rootKeyFile, `${rootKey}\n`, { mode: 0o600 });
    chmodSync(rootKeyFile, 0o600);
  }
  const shutdown = new AbortController();
  const app = await buildApp({
    services,
    rateLimit: config.rateLimit,
    logger: opts.logger === false ? false : { level: config.logLevel },
    shutdown: shutdown.signal,
  });
  // Responses not finished yet (a response's 'close' fires whether it was sent or abandoned).
  const inFlight = new Set<ServerResponse>();
  app.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  const address = await app.listen({ host: config.host, port: config.port });
  services.maintenance.start();
  let closing: Promise<void> | null = null;
  return {
    app,
    store,
    url: address.replace('[::1]', 'localhost'),
    rootKey,
    rootKeyFile,
    close: () => {
      closing ??= (async () => {
        shutdown.abort();
        await services.maintenance.stop();
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
        await store.close();
      })();
      return closing;
    },
  };
}
