/** `tasklane serve`: start the server, print where it listens and where its root key came from. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../config/config.js';
import { rootKeyFile } from '../../root-key.js';
import { startServer, type RunningServer } from '../../server.js';
import { CliError } from '../cli-error.js';
import { prettyLogStream, wantsPretty } from '../log-output.js';
import { startBanner, type RootKeyFact } from '../start-banner.js';

const HELP = `Usage: tasklane serve [--host H] [--port N] [--database URL] [--data-dir DIR] [--rate-limit N]

  --host        listen address (TASKLANE_HOST, default 127.0.0.1)
  --port        listen port (TASKLANE_PORT, default 8080)
  --database    sqlite:PATH or postgres://USER@HOST:PORT/DB (TASKLANE_DATABASE_URL,
                default sqlite:<data-dir>/tasklane.db)
  --db-pool     PostgreSQL connections per node (TASKLANE_DB_POOL, default 10)
  --db-schema   PostgreSQL schema for Tasklane's tables (TASKLANE_DB_SCHEMA, default tasklane)
  --data-dir    data folder (TASKLANE_DATA_DIR, default ./data)
  --rate-limit  requests per second per key, 0 = off (TASKLANE_RATE_LIMIT, default 100)
  --max-streams-per-key
                event streams one key may hold open on this node (TASKLANE_MAX_STREAMS_PER_KEY,
                default 1000)
  --metrics-token
                bearer token GET /metrics requires (TASKLANE_METRICS_TOKEN); unset: loopback only
  --log-level   fatal|error|warn|info|debug|trace|silent (TASKLANE_LOG_LEVEL, default info);
                each request is one line at debug
  --log-format  auto|pretty|json (TASKLANE_LOG_FORMAT, default auto: pretty on a terminal, else JSON)
  --webhook-allow-private
                let webhooks reach loopback and private addresses, for local development
                (TASKLANE_WEBHOOK_ALLOW_PRIVATE=1; logs a warning)
The root key can be set with TASKLANE_ROOT_KEY; what the MindFort dialect calls a canceled task
with TASKLANE_MINDFORT_CANCELED_STATUS (default canceled).`;

/** Hard stop if a graceful shutdown hangs (SPEC §12: exit within 10 s). */
const SHUTDOWN_DEADLINE_MS = 9000;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      database: { type: 'string' },
      'data-dir': { type: 'string' },
      'rate-limit': { type: 'string' },
      'max-streams-per-key': { type: 'string' },
      'db-pool': { type: 'string' },
      'db-schema': { type: 'string' },
      'metrics-token': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'webhook-allow-private': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env, {
      host: values.host,
      port: values.port,
      databaseUrl: values.database,
      dataDir: values['data-dir'],
      rateLimit: values['rate-limit'],
      maxStreamsPerKey: values['max-streams-per-key'],
      dbPool: values['db-pool'],
      dbSchema: values['db-schema'],
      metricsToken: values['metrics-token'],
      logLevel: values['log-level'],
      logFormat: values['log-format'],
      webhookAllowPrivate: values['webhook-allow-private'] === true ? 'true' : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const server = await startServer(config, wantsPretty(config.logFormat) ? { logStream: prettyLogStream() } : {});
  // Signal handlers first: a SIGTERM sent the moment the listening line appears stops gracefully.
  const stop = (signal: string) => {
    server.app.log.info(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // One write, before any request can be logged: whoever waits for the "listening" line has the
  // root key line with it.
  process.stdout.write(
    startBanner({
      url: server.url,
      storage: config.databaseUrl,
      rootKey: rootKeyFact(server, config.dataDir),
      logLevel: config.logLevel,
    }),
  );
  return -1;
}

function rootKeyFact(server: RunningServer, dataDir: string): RootKeyFact {
  switch (server.rootKeyOrigin) {
    case 'created':
      return { origin: 'created', secret: server.rootKey ?? '', file: server.rootKeyFile ?? '' };
    case 'environment':
      return { origin: 'environment', state: server.givenRootKey ?? 'valid' };
    case 'database': {
      const file = rootKeyFile(dataDir);
      return { origin: 'database', file: existsSync(file) ? file : null };
    }
  }
}
