/**
 * The SQLite adapter of the TaskStore contract (better-sqlite3, WAL).
 *
 * Concurrency design: one writer connection and one reader connection per process.
 * - Every `write` unit runs `BEGIN IMMEDIATE … COMMIT` on the writer connection, and units are
 *   queued one after another in this process (the statements are synchronous, but the contract's
 *   methods are async, so without the queue two units could interleave at an `await`). Across
 *   processes (a CLI beside the server), BEGIN IMMEDIATE takes SQLite's write lock up front; when
 *   another process holds it, the unit waits asynchronously and retries (never SQLite's own
 *   busy_timeout, which would freeze the event loop), and after `busyTimeoutMs` answers
 *   STORAGE_UNAVAILABLE instead of SQLITE_BUSY.
 * - Every `read` unit runs in a deferred transaction on the reader connection, so it sees one
 *   committed snapshot (WAL) and never a writer's uncommitted rows.
 * - WAL checkpoints run on a thread of their own (checkpointer.ts), not inside the writer's commits.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../domain/clock.js';
import { TasklaneError } from '../../domain/errors.js';
import { runMigrations } from '../migrations.js';
import type { ApiKey } from '../../domain/api-key.js';
import type {
  NewEvent,
  StoreReader,
  StoreWriter,
  TaskChange,
  TaskDocument,
  TaskKey,
  TaskStore,
  Unsubscribe,
} from '../task-store.js';
import { CommitHooks } from '../commit-hooks.js';
import { OutboxWakeups } from '../outbox-wakeups.js';
import { RecordCache, UnitWrites } from '../record-cache.js';
import { SerialQueue } from '../serial-queue.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { SqliteReader, prepared, taskDocument } from './sqlite-reader.js';
import { SqliteUnit } from './sqlite-unit.js';
import { SqliteWebhooks } from './sqlite-webhooks.js';

// Resolved from the package root so it works from src/ (tests) and dist/ alike.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../../src/storage/sqlite/migrations/', import.meta.url));

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' (one connection then serves reads and writes). */
  path: string;
  clock: Clock;
  /** How long a writer waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
  /** How often the checkpoint thread checkpoints the WAL (default 100 ms). */
  checkpointIntervalMs?: number;
}

/** SQLite's own automatic checkpoint threshold, in WAL pages. */
const AUTO_CHECKPOINT_PAGES = 1000;
/**
 * The writer's threshold while the checkpoint thread runs: a safety net that a working thread
 * never lets the WAL reach (40 MB of 4 KiB pages, about 4 s of writing at full speed).
 */
const SAFETY_NET_PAGES = 10_000;

type Db = Database.Database;

export function createSqliteStore(opts: SqliteStoreOptions): TaskStore {
  return new SqliteStore(opts);
}

class SqliteStore implements TaskStore {
  readonly capabilities = { backend: 'sqlite', multiNode: false } as const;
  private readonly writer: Db;
  private readonly reader: Db;
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private readonly listeners = new Set<(change: TaskChange) => void>();
  private readonly commitHooks = new CommitHooks();
  /** In-progress records this store committed (record-cache.ts). */
  private readonly records = new RecordCache();
  private readonly clock: Clock;
  private readonly busyTimeoutMs: number;
  private readonly checkpointer: Checkpointer | null;
  private closed = false;
  /** Set by the outbox trigger (010_webhooks.sql) when the running write unit wrote deliveries. */
  private outboxWritten = false;
  private readonly outboxWakeups = new OutboxWakeups();
  readonly webhooks = new SqliteWebhooks(
    (fn) => this.write((tx) => Promise.resolve(fn(this.writer, tx.now))),
    (fn) => this.read((tx) => Promise.resolve(fn(this.reader, tx.now))),
    this.outboxWakeups,
  );

  constructor(opts: SqliteStoreOptions) {
    this.clock = opts.clock;
    this.busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    const memory = opts.path === ':memory:';
    if (!memory) mkdirSync(dirname(opts.path), { recursive: true });
    // The writer never busy-waits inside SQLite (see beginImmediate); a reader in WAL mode only
    // waits during rare recovery, briefly.
    this.writer = open(opts.path, 0);
    this.reader = memory ? this.writer : open(opts.path, 100);
    // Called by the outbox trigger, only for an event that got deliveries: free for other orgs.
    this.writer.function('tasklane_outbox_written', () => {
      this.outboxWritten = true;
      return null;
    });
    this.checkpointer = memory ? null : this.startCheckpointer(opts.path, opts.checkpointIntervalMs ?? 100);
  }

  private startCheckpointer(path: string, intervalMs: number): Checkpointer {
    this.writer.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
    return startCheckpointer(path, intervalMs, () => {
      // The thread is gone: the writer checkpoints in its commits again, as SQLite does by default.
      if (!this.closed) this.writer.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    });
  }

  async migrate(): Promise<void> {
    const db = this.writer;
    await this.writes.run(() =>
      runMigrations(MIGRATIONS_DIR, {
        // BEGIN IMMEDIATE takes the database's write lock: two processes starting at once migrate once.
        begin: () => this.beginImmediate(),
        exec: async (sql) => {
          db.exec(sql);
        },
        rows: async (sql) => db.prepare(sql).all() as Array<Record<string, unknown>>,
        types: { integer: 'INTEGER', text: 'TEXT', bigint: 'INTEGER' },
        appliedAt: () => String(this.clock.now()),
      }),
    );
  }

  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (this.reader === this.writer) return this.write(fn);
    const db = this.reader;
    return this.reads.run(async () => {
      try {
        prepared(db, 'BEGIN').run();
      } catch (err) {
        throw storageError(err);
      }
      try {
        return await fn(new SqliteReader(db, this.clock.now()));
      } catch (err) {
        throw storageError(err);
      } finally {
        if (db.inTransaction) prepared(db, 'COMMIT').run();
      }
    });
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const db = this.writer;
    return this.writes.run(async () => {
      const changes: TaskChange[] = [];
      const written = new UnitWrites();
      const events: NewEvent[] = [];
      this.outboxWritten = false;
      await this.beginImmediate();
      let result: T;
      try {
        result = await fn(new SqliteUnit(db, this.clock.now(), changes, this.records, written, events));
        prepared(db, 'COMMIT').run();
      } catch (err) {
        if (db.inTransaction) prepared(db, 'ROLLBACK').run();
        throw storageError(err);
      }
      this.records.commit(written);
      for (const change of changes) for (const l of this.listeners) l(change);
      this.commitHooks.emit(events);
      // A nested unit undone may have set it too: one wake-up too many, never one too few.
      if (this.outboxWritten) this.outboxWakeups.emit();
      return result;
    });
  }

  findKeyByHash(hash: string): Promise<ApiKey | null> {
    return this.read((tx) => tx.findKeyByHash(hash));
  }

  getTaskDocument(orgId: string, key: TaskKey): Promise<TaskDocument | null> {
    if (this.closed) return Promise.reject(closedError());
    // Queued behind the read units (or, in memory, the write units) that share the connection:
    // inside one of their open transactions this statement would see that unit's older snapshot.
    const queue = this.reader === this.writer ? this.writes : this.reads;
    return queue.run(async () => {
      try {
        return taskDocument(this.reader, orgId, key);
      } catch (err) {
        throw storageError(err);
      }
    });
  }

  /**
   * Take SQLite's write lock. When another process holds it, wait with growing pauses (1 ms up to
   * 50 ms) on the event loop, so this process keeps serving reads, and give up after busyTimeoutMs.
   */
  private async beginImmediate(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    let pause = 1;
    for (;;) {
      try {
        prepared(this.writer, 'BEGIN IMMEDIATE').run();
        return;
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw storageError(err);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 50);
    }
  }

  subscribe(listener: (change: TaskChange) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onCommit(listener: (events: readonly NewEvent[]) => void): Unsubscribe {
    return this.commitHooks.add(listener);
  }

  async ping(): Promise<void> {
    if (this.closed) throw closedError();
    try {
      this.reader.prepare('SELECT 1').get();
    } catch (err) {
      throw storageError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.idle();
    await this.reads.idle();
    await this.checkpointer?.stop();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}

const closedError = () => new TasklaneError('STORAGE_UNAVAILABLE', 'The store is closed.');

const isBusy = (err: unknown): boolean =>
  err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED');

/**
 * Driver errors that mean "the database cannot serve now" (locked too long, I/O error, disk full,
 * read-only, gone) become STORAGE_UNAVAILABLE, with the driver error kept as the cause for the
 * log. Anything else (a constraint, a bug) passes through unchanged.
 */
function storageError(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/.test(err.code)) {
    return new TasklaneError('STORAGE_UNAVAILABLE', 'The database is not available right now; try again.', {
      cause: err,
    });
  }
  return err;
}

function open(path: string, busyTimeoutMs: number): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only power loss can undo the
  // last commits, and never corrupts the file.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('foreign_keys = ON');
  // Pages are read straight from the mapped file (the first GiB) instead of copied in by a read()
  // call each: a GET of one task among 100,000 touches a handful of pages outside the 2 MB cache.
  db.pragma('mmap_size = 1073741824');
  return db;
}
