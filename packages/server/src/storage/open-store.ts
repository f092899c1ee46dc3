/** Opens the store a database URL names: `sqlite:PATH` (embedded). */
import type { Clock } from '../domain/clock.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { TaskStore } from './task-store.js';

export function openStore(databaseUrl: string, clock: Clock): TaskStore {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('sqlite: needs a path, e.g. sqlite:./data/tasklane.db');
    return createSqliteStore({ path, clock });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('PostgreSQL storage is not part of this build yet; use sqlite:PATH.');
  }
  throw new Error(`Unknown database URL '${databaseUrl}': use sqlite:PATH.`);
}
