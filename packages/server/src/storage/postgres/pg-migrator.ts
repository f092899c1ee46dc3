/**
 * Applies postgres/migrations/NNN_*.sql to one schema, in one transaction under an advisory lock:
 * nodes starting together wait for each other and the schema is migrated once. A schema newer
 * than the code (a later Tasklane migrated it) refuses to start.
 */
import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';
import { DatabaseTooNewError, loadMigrations } from '../migrations.js';
import { LOCK_CLASS } from './pg-unit.js';

// Resolved from the package root so it works from src/ (tests) and dist/ alike.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../../src/storage/postgres/migrations/', import.meta.url));

/** `schema` must be a plain lower-case identifier (the store checks it). */
export async function migrate(client: ClientBase, schema: string): Promise<void> {
  const migrations = loadMigrations(MIGRATIONS_DIR);
  await client.query('BEGIN');
  try {
    // The lock first: CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one.
    await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_CLASS.migrate, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    const latest = migrations.length;
    if (current > latest) throw new DatabaseTooNewError(current, latest);
    for (const m of migrations.slice(current)) {
      await client.query(m.sql);
      await client.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, floor(extract(epoch FROM clock_timestamp()) * 1000))',
        [m.version, m.name],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
