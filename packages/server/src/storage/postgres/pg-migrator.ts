/**
 * The PostgreSQL driver of the migration runner (migrations.ts): postgres/migrations/NNN_*.sql,
 * applied to one schema under an advisory lock, so nodes starting together wait for each other
 * and the schema is migrated once.
 */
import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';
import { runMigrations } from '../migrations.js';
import { LOCK_CLASS } from './pg-unit.js';

// Resolved from the package root so it works from src/ (tests) and dist/ alike.
export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../../src/storage/postgres/migrations/', import.meta.url));

/** `schema` must be a plain lower-case identifier (the store checks it). */
export function migrate(client: ClientBase, schema: string): Promise<void> {
  return runMigrations(PG_MIGRATIONS_DIR, {
    begin: async () => {
      await client.query('BEGIN');
      // The lock first: CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one.
      await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_CLASS.migrate, schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`SET LOCAL search_path TO ${schema}`);
    },
    exec: async (sql) => {
      await client.query(sql);
    },
    rows: async (sql) => (await client.query<Record<string, unknown>>(sql)).rows,
    types: { integer: 'integer', text: 'text', bigint: 'bigint' },
    appliedAt: () => 'floor(extract(epoch FROM clock_timestamp()) * 1000)',
  });
}
