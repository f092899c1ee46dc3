/**
 * Child process of bench/event-streams.ts: one Tasklane node (the built server, packages/server/dist)
 * that tells its memory on request, after a full garbage collection (run with --expose-gc), so that
 * the parent can divide what N open streams cost by N.
 */
import { loadConfig } from '../../packages/server/dist/config/config.js';
import { startServer } from '../../packages/server/dist/server.js';
import { requiredEnv } from './child-ipc.js';

export type StreamsServerMessage =
  | { type: 'ready'; url: string }
  | { type: 'memory' }
  | { type: 'memory-is'; rss: number; heapUsed: number; external: number }
  | { type: 'stop' };

const database = process.env.BENCH_DATABASE_URL;
const server = await startServer(
  loadConfig(
    {},
    {
      port: '0',
      dataDir: requiredEnv('BENCH_DATA_DIR'),
      rootKey: requiredEnv('BENCH_ROOT_KEY'),
      logLevel: 'warn',
      // Neither limit is what is measured here.
      rateLimit: '0',
      maxStreamsPerKey: '1000000',
      ...(database === undefined || database === '' ? {} : { databaseUrl: database }),
    },
  ),
  { logger: false },
);

const send = (m: StreamsServerMessage) => process.send?.(m);
const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (m: StreamsServerMessage) => {
  if (m.type === 'memory') {
    // Twice: the first pass may only queue finalizers that free more on the second.
    gc?.();
    gc?.();
    const u = process.memoryUsage();
    send({ type: 'memory-is', rss: u.rss, heapUsed: u.heapUsed, external: u.external });
  } else if (m.type === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(1));
send({ type: 'ready', url: server.url });
