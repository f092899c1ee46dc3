/** SQLite for tests: temp directories, and the store's module for a child process to import. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository's root: the working directory of child processes (tsx resolves from there). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** sqlite-store.ts as a URL a child process can `import()` (run with `--import tsx`). */
export const SQLITE_STORE_MODULE = pathToFileURL(
  fileURLToPath(new URL('../../src/storage/sqlite/sqlite-store.ts', import.meta.url)),
).href;

export const SQLITE_MIGRATIONS_DIR = fileURLToPath(new URL('../../src/storage/sqlite/migrations/', import.meta.url));

/** A new empty directory for a test's database files; the test removes it. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tasklane-sqlite-'));
}
