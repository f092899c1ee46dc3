/** Child process: the built Tasklane server (packages/server/dist) on an already seeded data dir. */
import { loadConfig } from '../../packages/server/dist/config/config.js';
import { startServer } from '../../packages/server/dist/server.js';
import { announce, requiredEnv } from './child-ipc.js';

const server = await startServer(
  loadConfig(
    {},
    // rateLimit 0: the default (100 req/s per key) would measure the limiter, not the route.
    { port: '0', dataDir: requiredEnv('BENCH_DATA_DIR'), logLevel: requiredEnv('BENCH_LOG_LEVEL'), rateLimit: '0' },
  ),
);
announce(server.url, () => server.close());
