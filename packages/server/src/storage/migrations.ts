/**
 * Numbered plain-SQL migrations (`001_init.sql`, …) and the one runner every adapter migrates
 * with: a version table, a database newer than the code refused, each pending file applied in
 * order, all in one transaction under the adapter's lock. An adapter lends it a MigrationDriver.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_PATTERN = /^\d{3}_[a-z0-9_]+\.sql$/;

export function loadMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => FILE_PATTERN.test(f))
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

/** What the runner needs of one database: its lock, a way to run SQL, and its spelling. */
export interface MigrationDriver {
  /**
   * Begin the transaction the migrations run in, holding this database's migration lock, so that
   * stores starting at once wait for each other and the schema is migrated once.
   */
  begin(): Promise<void>;
  /** Run SQL text: one statement, or the several of a migration file. */
  exec(sql: string): Promise<void>;
  /** The rows of one query, as objects by column name. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  /** How this database names the version table's column types. */
  readonly types: { integer: string; text: string; bigint: string };
  /** An SQL expression for now, in epoch milliseconds: when a migration was applied. */
  appliedAt(): string;
}

/** Apply the migrations in `dir` that the database has not applied yet. */
export async function runMigrations(dir: string, db: MigrationDriver): Promise<void> {
  const migrations = loadMigrations(dir);
  const { integer, text, bigint } = db.types;
  try {
    await db.begin();
    await db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version ${integer} PRIMARY KEY, name ${text} NOT NULL, applied_at ${bigint} NOT NULL)`,
    );
    const [row] = await db.rows('SELECT max(version) AS v FROM schema_migrations');
    const current = Number(row?.['v'] ?? 0);
    const latest = migrations.length;
    if (current > latest) throw new DatabaseTooNewError(current, latest);
    for (const m of migrations.slice(current)) {
      await db.exec(m.sql);
      // Written in as literals: a version is a number and a name matches FILE_PATTERN.
      await db.exec(
        `INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, '${m.name}', ${db.appliedAt()})`,
      );
    }
    await db.exec('COMMIT');
  } catch (err) {
    // Fails too when nothing began or the connection is gone; the original error is the one to report.
    await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
