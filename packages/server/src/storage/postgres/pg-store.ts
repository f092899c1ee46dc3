/**
 * The PostgreSQL adapter of the TaskStore contract (node-postgres), for one or many server nodes
 * sharing one database.
 *
 * - A bounded pool; every connection's search_path is the store's schema. Units of work:
 *   `write` = BEGIN (READ COMMITTED) … COMMIT on one pooled connection, run again from the start
 *   (a few times) when PostgreSQL rolls it back for a concurrent unit's sake; `read` = one
 *   REPEATABLE READ, READ ONLY snapshot. How the contract's locking rules map onto PostgreSQL's
 *   locks: see pg-unit.ts.
 * - `tx.now` is the database's clock at the start of the unit (one clock for every node), unless
 *   a clock is passed (tests).
 * - Changes are announced to this store's listeners at commit and to other nodes through
 *   LISTEN/NOTIFY (change-feed.ts).
 * - Lost connections, pool and statement timeouts become STORAGE_UNAVAILABLE (pg-errors.ts).
 */
import { randomUUID } from 'node:crypto';
import pg, { type ClientConfig, type PoolClient } from 'pg';
import type { Clock } from '../../domain/clock.js';
import { TasklaneError } from '../../domain/errors.js';
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
import { RecordCache } from '../record-cache.js';
import { CHANNEL, ChangeFeed, encodeChanges, encodeOutboxWake } from './change-feed.js';
import { closedError, isConnectionBroken, isRetryable, storageError } from './pg-errors.js';
import { deliveriesWritten } from './pg-events.js';
import { migrate } from './pg-migrator.js';
import { PgReader, taskDocument } from './pg-reader.js';
import { PgUnit } from './pg-unit.js';
import { PgWebhooks } from './pg-webhooks.js';
import { sqlLiteral } from './rows.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Omitted: the database's clock. Tests pass a ManualClock. */
  clock?: Clock;
  /** Pooled connections, at most (default 10). The change feed uses one more of its own. */
  poolSize?: number;
  /** The schema that holds Tasklane's tables (default `tasklane`); created by migrate(). */
  schema?: string;
  /** A statement running longer fails with STORAGE_UNAVAILABLE (default 4 s). */
  statementTimeoutMs?: number;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const CONNECT_TIMEOUT_MS = 3_000;

/** Covers a connection attempt (3 s) and the answer. */
const PING_TIMEOUT_MS = 4_000;
/** A unit idle inside its transaction this long (a hung caller) is ended by the server. */
const IDLE_IN_TRANSACTION_MS = 60_000;
const MAX_ATTEMPTS = 5;
/** How long a unit may take, retries included, before it answers STORAGE_UNAVAILABLE. */
const UNIT_DEADLINE_MS = 4_800;
const DB_NOW = 'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now';
/**
 * Every statement of a write unit finds its rows by key: a task by (org_id, id), a set of them by
 * joining keys sent as a parameter with the primary key. Such a join has one good plan, a nested
 * loop over the keys with an index lookup each; but a prepared statement's cached (generic) plan
 * is made once, and made while the table is young and small it hashes the whole table instead,
 * and keeps doing so as the table grows (seen: every claim of 100 scanning 22,000 tasks). Hash and
 * merge joins are off inside write units, so the nested loop is the only plan there is.
 */
const WRITE_BEGIN = 'BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off';

export function createPostgresStore(opts: PostgresStoreOptions): TaskStore {
  return new PostgresStore(opts);
}

class PostgresStore implements TaskStore {
  readonly capabilities = { backend: 'postgres', multiNode: true } as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly clock: Clock | undefined;
  private readonly nodeId = randomUUID();
  private readonly connection: ClientConfig;
  private readonly listeners = new Set<(change: TaskChange) => void>();
  private readonly commitHooks = new CommitHooks();
  /** In-progress records this store committed (record-cache.ts). */
  private readonly records = new RecordCache();
  private readonly inFlight = new Set<Promise<unknown>>();
  private feed: ChangeFeed | null = null;
  private readonly outboxWakeups = new OutboxWakeups();
  /** What this store's units NOTIFY when they wrote deliveries (change-feed.ts). */
  private readonly outboxWake: string;
  private closing: Promise<void> | null = null;
  readonly webhooks: PgWebhooks;

  constructor(opts: PostgresStoreOptions) {
    const schema = opts.schema ?? 'tasklane';
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new Error(`PostgreSQL schema '${schema}' must be lower-case letters, digits and _ (not first), at most 63`);
    }
    this.schema = schema;
    this.clock = opts.clock;
    // Every query Tasklane makes is small; 4 s on the server and 4.5 s on the client keep a request
    // under SPEC's 5 s even when PostgreSQL goes silent without closing its sockets.
    const statementTimeoutMs = opts.statementTimeoutMs ?? 4_000;
    // BIGINT (times, counts) as numbers, for this store's connections only.
    const types = new pg.TypeOverrides();
    types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
    this.connection = {
      connectionString: opts.url,
      types,
      options: `-c search_path=${schema}`,
      statement_timeout: statementTimeoutMs,
      // The client's own limit, for a server that stopped answering without closing the socket.
      query_timeout: statementTimeoutMs + 500,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      application_name: `tasklane/${schema}`,
    };
    this.pool = new pg.Pool({ ...this.connection, max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    // An idle connection that breaks (server restart) is dropped by the pool; the next unit opens
    // another. Without a listener the error would end the process.
    this.pool.on('error', () => undefined);
    this.outboxWake = encodeOutboxWake(this.nodeId, schema);
    this.webhooks = new PgWebhooks(this.pool, () => this.clock?.now() ?? null, {
      wakeups: this.outboxWakeups,
      wake: this.outboxWake,
      listen: () => this.listen(),
    });
  }

  private get closed(): boolean {
    return this.closing !== null;
  }

  migrate(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(async () => {
      // A connection of its own, without the statement timeouts: a migration may take long.
      const client = new pg.Client({ ...this.connection, statement_timeout: undefined, query_timeout: undefined });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await migrate(client, this.schema);
      } catch (err) {
        throw storageError(err);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }

  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T> {
    return this.unit({
      begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
      open: (client, now) => new PgReader(client, now),
      fn,
      commit: async (client) => {
        await client.query('COMMIT');
      },
    });
  }

  getTaskDocument(orgId: string, key: TaskKey): Promise<TaskDocument | null> {
    return this.unit({
      begin: null,
      open: (client) => client,
      fn: (client) => taskDocument(client, orgId, key),
      commit: async () => undefined,
    });
  }

  findKeyByHash(hash: string): Promise<ApiKey | null> {
    return this.unit({
      begin: null,
      open: (client) => new PgReader(client, Number.NaN),
      fn: (reader) => reader.findKeyByHash(hash),
      commit: async () => undefined,
    });
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    return this.unit({
      begin: WRITE_BEGIN,
      open: (client, now) => new PgUnit(client, now, this.schema, this.records, this.outboxWake),
      fn,
      commit: (client, unit) => this.commit(client, unit),
      committed: (unit) => {
        this.records.commit(unit.writes);
        this.announce(unit.changes);
        this.commitHooks.emit(unit.appendedEvents);
        // Counted by the events' statements: a unit that wrote no delivery wakes no dispatcher.
        // (A nested unit undone may have counted some: one wake-up too many, never one too few.)
        if (unit.deliveriesWritten > 0) this.outboxWakeups.emit();
      },
    });
  }

  /**
   * One unit of work on one pooled connection, run again from the start (a few times) when
   * PostgreSQL rolled it back for a concurrent unit's sake (see isRetryable).
   */
  private unit<U, T>(steps: {
    /** null: one statement outside a transaction (it is its own snapshot), `now` unused. */
    begin: string | null;
    open: (client: PoolClient, now: number) => U;
    fn: (unit: U) => Promise<T>;
    commit: (client: PoolClient, unit: U) => Promise<void>;
    committed?: (unit: U) => void;
  }): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(async () => {
      // SPEC §9: an outage answers within 5 s. A retry is tried only while it can still finish
      // in time (a silent server costs a whole query timeout; a new connection up to 3 s more).
      const deadline = Date.now() + UNIT_DEADLINE_MS;
      for (let attempt = 1; ; attempt++) {
        const client = await this.connect();
        let begun = false;
        try {
          const unit = steps.open(client, steps.begin === null ? Number.NaN : await this.begin(client, steps.begin));
          begun = true;
          const result = await steps.fn(unit);
          await steps.commit(client, unit);
          client.release();
          steps.committed?.(unit);
          return result;
        } catch (err) {
          const broken = isConnectionBroken(err) || !(await rollback(client));
          client.release(broken ? asError(err) : undefined);
          // A pooled connection that died idle (the server restarted) fails at BEGIN: nothing ran,
          // another connection may serve; so may a lone read, which changed nothing. A unit rolled
          // back for another's sake runs again.
          const inTime = Date.now() + CONNECT_TIMEOUT_MS < deadline;
          if (attempt < MAX_ATTEMPTS && inTime && (broken ? !begun || steps.begin === null : isRetryable(err))) {
            await pause(attempt);
            continue;
          }
          throw storageError(err);
        }
      }
    });
  }

  /** BEGIN, and the unit's `now`: the clock's, or the database's in the same round trip. */
  private async begin(client: PoolClient, begin: string): Promise<number> {
    if (this.clock) {
      await client.query(begin);
      return this.clock.now();
    }
    // Several statements in one simple query: one round trip.
    const results = (await client.query(`${begin}; ${DB_NOW}`)) as unknown as Array<pg.QueryResult<{ now: number }>>;
    const now = results.at(-1)?.rows[0]?.now;
    if (now === undefined) throw new Error('the database did not tell the time');
    return now;
  }

  /**
   * The unit's last statements in one round trip, a simple query (so their values are written in as
   * literals): its events (numbered now, see PgUnit.takeEventStatements), its NOTIFY (delivered at
   * commit, never for a rollback), and COMMIT. If one fails, PostgreSQL runs none after it and the
   * transaction is rolled back as for any failed statement. Unlike parameters, values in a
   * statement's text show in PostgreSQL's log when it fails (log_min_error_statement): event data (a
   * progress message, a cause) can reach the server's log that way.
   */
  private async commit(client: PoolClient, unit: PgUnit): Promise<void> {
    const notify = encodeChanges(this.nodeId, this.schema, unit.changes).map(
      (payload) => `SELECT pg_notify('${CHANNEL}', ${sqlLiteral(payload)});`,
    );
    const results: unknown = await client.query(`${unit.takeEventStatements()}${notify.join(' ')} COMMIT`);
    unit.deliveriesWritten += deliveriesWritten(Array.isArray(results) ? (results as pg.QueryResult[]) : []);
  }

  private announce(changes: readonly TaskChange[]): void {
    for (const change of changes) for (const l of this.listeners) l(change);
  }

  private async connect(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storageError(err);
    }
    // While checked out, the pool does not listen for the connection's errors; a break between two
    // statements would otherwise end the process. The next statement reports it.
    if (client.listenerCount('error') === 0) client.on('error', () => undefined);
    return client;
  }

  /** Runs `job`, remembered until it settles so that close() can wait for it. */
  private track<T>(job: () => Promise<T>): Promise<T> {
    const p = job();
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  subscribe(listener: (change: TaskChange) => void): Unsubscribe {
    this.listeners.add(listener);
    this.listen();
    return () => this.listeners.delete(listener);
  }

  /** Starts the LISTEN connection (change-feed.ts) on first use. */
  private listen(): void {
    if (this.feed === null && !this.closed) {
      this.feed = new ChangeFeed({
        connection: { ...this.connection, application_name: `tasklane-listen/${this.schema}` },
        nodeId: this.nodeId,
        schema: this.schema,
        onChanges: (changes) => {
          for (const change of changes) {
            for (const l of this.listeners) {
              try {
                l(change);
              } catch {
                // A listener's failure is its own; the feed goes on for the others.
              }
            }
          }
        },
        onOutboxWake: () => this.outboxWakeups.emit(),
      });
      this.feed.start();
    }
  }

  /** This store's units only: other nodes' events never come through the change feed. */
  onCommit(listener: (events: readonly NewEvent[]) => void): Unsubscribe {
    return this.commitHooks.add(listener);
  }

  async ping(): Promise<void> {
    if (this.closed) throw closedError();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.pool.query('SELECT 1'), timeout]);
    } catch (err) {
      // Whatever the reason (unreachable, refused, misconfigured, slow), storage is not serving.
      throw new TasklaneError('STORAGE_UNAVAILABLE', 'The database did not answer.', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.feed?.stop();
      await this.pool.end();
    })();
    return this.closing;
  }
}

async function rollback(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A short, growing, jittered pause before a unit runs again. */
const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
