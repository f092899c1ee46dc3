/** Numbered plain-SQL migrations (`001_init.sql`, …), shared by every adapter's migrator. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file.slice(0, 3), 10),
      name: file.slice(4, -4),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations in ${dir} must be numbered 001, 002, … without gaps`);
  });
  return migrations;
}

export class DatabaseTooNewError extends Error {
  constructor(dbVersion: number, codeVersion: number) {
    super(
      `The database is at schema version ${dbVersion}, newer than this Tasklane (${codeVersion}). ` +
        'Upgrade Tasklane; it refuses to run against a schema it does not know.',
    );
    this.name = 'DatabaseTooNewError';
  }
}
