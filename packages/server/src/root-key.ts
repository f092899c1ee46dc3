/**
 * The root key outside the API: the file in the data folder where `serve` keeps the root key it
 * creates, and the operator's reset of the root key on the database itself (`tasklane keys
 * reset-root`), for when no working root key is left to ask the API with.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config/config.js';
import { systemClock } from './domain/clock.js';
import { AuthService, type ResetRootResult } from './service/auth-service.js';
import { sha256Hex } from './service/ids.js';
import { openStore, sqlitePath } from './storage/open-store.js';

/** `<data dir>/root-key`: where `serve` writes the root key it creates. */
export const rootKeyFile = (dataDir: string): string => join(dataDir, 'root-key');

/** Writes `<data dir>/root-key`, readable by its owner only (0600, also when it existed); returns its path. */
export function writeRootKeyFile(dataDir: string, secret: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = rootKeyFile(dataDir);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Whether the database is the data folder's own SQLite file (the default): the one its root-key file is of. */
export function isDataDirDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): boolean {
  const path = sqlitePath(config.databaseUrl);
  return path !== null && resolve(path) === resolve(config.dataDir, 'tasklane.db');
}

export interface RootKeyReset extends ResetRootResult {
  /**
   * The data folder's root-key file, when the reset rewrote it with the new key (`error`: it could
   * not be written; the key is valid all the same); null when the file is not this database's.
   */
  file: { path: string; error: string | null } | null;
}

/** The SHA-256 of the key in `<data dir>/root-key`, or null when there is no such file. */
function fileKeyHash(dataDir: string): string | null {
  const file = rootKeyFile(dataDir);
  return existsSync(file) ? sha256Hex(readFileSync(file, 'utf8').trim()) : null;
}

/**
 * A new root key for org `default` of the database `config` names (the one `serve` would open),
 * the old root keys revoked. Safe while servers run on it: SQLite's write lock (WAL, another
 * process) or PostgreSQL's org row lock orders it with their writes. A missing SQLite file is not
 * created: a mistyped path must not make a new, empty database.
 */
export async function resetRootKey(config: Config): Promise<RootKeyReset> {
  const path = sqlitePath(config.databaseUrl);
  if (path !== null && path !== ':memory:' && !existsSync(path)) {
    throw new Error(`No database at ${path}: give the --database or --data-dir that 'tasklane serve' uses.`);
  }
  const inFile = fileKeyHash(config.dataDir);
  const store = openStore(config.databaseUrl, systemClock, { pool: 2, schema: config.dbSchema });
  let result: ResetRootResult;
  let ours: boolean;
  try {
    // As a starting node would: a database older than the code is brought up to date, one newer refused.
    await store.migrate();
    result = await new AuthService(store, systemClock).resetRoot();
    // `serve` keeps the root key it created in the data folder, whatever the database. The file is
    // rewritten when it is this database's: the data folder's own SQLite file, or a file that holds
    // a key of this database (a PostgreSQL node's). A file of another database is left alone.
    ours = isDataDirDatabase(config) || (inFile !== null && (await store.findKeyByHash(inFile)) !== null);
  } finally {
    await store.close();
  }
  if (!ours) return { ...result, file: null };
  try {
    return { ...result, file: { path: writeRootKeyFile(config.dataDir, result.created.secret), error: null } };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { ...result, file: { path: rootKeyFile(config.dataDir), error } };
  }
}
