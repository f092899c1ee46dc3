/**
 * Server configuration: one schema with its defaults, validated once at start. Environment
 * variables and command-line flags are mapped onto it only here, at the edge.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { join } from 'node:path';

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    dataDir: Type.String({ minLength: 1, default: './data' }),
    /** `sqlite:PATH`; defaults to `sqlite:<dataDir>/tasklane.db`. */
    databaseUrl: Type.Optional(Type.String({ pattern: '^(sqlite:|postgres(ql)?://)' })),
    /** PostgreSQL: connections per node (default 10) and the schema Tasklane's tables live in. */
    dbPool: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    dbSchema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
    rootKey: Type.Optional(Type.String({ pattern: '^tl_[0-9A-Za-z]{32,128}$' })),
    /** What the MindFort dialect calls a canceled task (its clients may expect `cancelled`). */
    mindfortCanceledStatus: Type.String({ pattern: '^[a-z_]{1,32}$', default: 'canceled' }),
    /** Requests per second per key, burst twice that; 0 turns the limit off. */
    rateLimit: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 100 }),
    /** Event streams one key may hold open on one node. */
    maxStreamsPerKey: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 }),
    /** The bearer token GET /metrics requires; unset: /metrics answers loopback clients only. */
    metricsToken: Type.Optional(Type.String({ minLength: 16, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' })),
    /** Webhooks may reach loopback and private addresses (local development and tests only). */
    webhookAllowPrivate: Type.Boolean({ default: false }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    /** `pretty` lines for people, or pino's JSON lines; `auto`: pretty when stdout is a terminal. */
    logFormat: Type.Union(
      ['auto', 'pretty', 'json'].map((f) => Type.Literal(f)),
      { default: 'auto' },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema> & { databaseUrl: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Environment variables → config fields (strings; numbers are converted by the schema). README's
 * configuration table documents each one (a test checks).
 */
export const CONFIG_ENV: Record<string, keyof Static<typeof ConfigSchema>> = {
  TASKLANE_HOST: 'host',
  TASKLANE_PORT: 'port',
  TASKLANE_DATA_DIR: 'dataDir',
  TASKLANE_DATABASE_URL: 'databaseUrl',
  TASKLANE_DB_POOL: 'dbPool',
  TASKLANE_DB_SCHEMA: 'dbSchema',
  TASKLANE_ROOT_KEY: 'rootKey',
  TASKLANE_MINDFORT_CANCELED_STATUS: 'mindfortCanceledStatus',
  TASKLANE_RATE_LIMIT: 'rateLimit',
  TASKLANE_MAX_STREAMS_PER_KEY: 'maxStreamsPerKey',
  TASKLANE_METRICS_TOKEN: 'metricsToken',
  TASKLANE_WEBHOOK_ALLOW_PRIVATE: 'webhookAllowPrivate',
  TASKLANE_LOG_LEVEL: 'logLevel',
  TASKLANE_LOG_FORMAT: 'logFormat',
};

/** Flags win over the environment, which wins over the defaults. */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  flags: Partial<Record<keyof Static<typeof ConfigSchema>, string>>,
): Config {
  const raw: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(CONFIG_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[field] = v;
  }
  for (const [field, v] of Object.entries(flags)) if (v !== undefined) raw[field] = v;
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const errors = [...Value.Errors(ConfigSchema, value)];
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.path.slice(1) || '(config)'}: ${e.message} (got ${JSON.stringify(e.value)})`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = value as Static<typeof ConfigSchema>;
  return { ...config, databaseUrl: config.databaseUrl ?? `sqlite:${join(config.dataDir, 'tasklane.db')}` };
}
