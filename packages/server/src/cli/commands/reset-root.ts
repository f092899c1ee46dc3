/**
 * `tasklane keys reset-root`: a new root key, made on the database itself rather than through the
 * API, for an operator who has lost or revoked every root key. Loaded only when run: the other
 * `keys` commands are clients and need no server code.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../config/config.js';
import { isTasklaneError } from '../../domain/errors.js';
import { resetRootKey, type RootKeyReset } from '../../root-key.js';
import { withoutPassword } from '../start-banner.js';
import { CliError } from '../cli-error.js';
import { parseOrUsage } from '../client-options.js';
import { out, printJson } from '../print.js';

export const RESET_ROOT_HELP = `Usage: tasklane keys reset-root [--database URL] [--data-dir DIR] [--db-schema NAME] [--json]

Makes a new root key (scopes root, admin) for org 'default' and revokes every root key the org had,
on the database itself: no key is needed, only access to the database. Prints the new key once.
Servers may keep running (SQLite in WAL mode, or PostgreSQL); they accept the new key at once.

  --database   sqlite:PATH or postgres://USER@HOST:PORT/DB (TASKLANE_DATABASE_URL,
               default sqlite:<data-dir>/tasklane.db): the database 'tasklane serve' opens
  --data-dir   data folder (TASKLANE_DATA_DIR, default ./data); the new key is also written to
               <data-dir>/root-key (mode 0600) when that file is this database's: the database is
               the folder's tasklane.db, or the file holds a key of this database
  --db-schema  PostgreSQL schema of Tasklane's tables (TASKLANE_DB_SCHEMA, default tasklane)
  --json       print { id, secret, revoked, file } as JSON
  -h, --help   this help`;

export async function resetRootCommand(argv: string[]): Promise<number> {
  const command = 'keys reset-root';
  const { values } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      options: {
        database: { type: 'string' },
        'data-dir': { type: 'string' },
        'db-schema': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    out(RESET_ROOT_HELP);
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env, {
      databaseUrl: values.database,
      dataDir: values['data-dir'],
      dbSchema: values['db-schema'],
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  let reset: RootKeyReset;
  try {
    reset = await resetRootKey(config);
  } catch (err) {
    const detail = isTasklaneError(err)
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
    throw new CliError(`${command} on ${withoutPassword(config.databaseUrl)}: ${detail}`, 1);
  }
  const { key, secret } = reset.created;
  if (values.json) {
    printJson({ id: key.id, secret, revoked: reset.revoked.map((k) => k.id), file: reset.file });
  } else {
    out(summary(reset, withoutPassword(config.databaseUrl)));
  }
  return reset.file?.error ? 1 : 0;
}

function summary(reset: RootKeyReset, database: string): string {
  const { key, secret } = reset.created;
  const revoked = reset.revoked.map((k) => k.id);
  const lines = [
    `New root key ${key.id} for org 'default' in ${database}.`,
    revoked.length === 0
      ? 'No root key was left to revoke.'
      : `Revoked the old root key${revoked.length === 1 ? '' : 's'}: ${revoked.join(', ')}.`,
  ];
  if (reset.file !== null) {
    lines.push(
      reset.file.error === null
        ? `Written to ${reset.file.path} (readable by you only).`
        : `Could not write ${reset.file.path} (${reset.file.error}); the key below is valid all the same.`,
    );
  }
  lines.push(
    'Servers started with TASKLANE_ROOT_KEY need it set to this key (or unset).',
    '',
    'Secret (shown this once; store it now, it cannot be shown again):',
    '',
    `  ${secret}`,
    '',
  );
  return lines.join('\n');
}
