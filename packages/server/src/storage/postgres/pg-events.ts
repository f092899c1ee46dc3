/**
 * The events of one PostgreSQL write unit. Event ids are numbered per org from a counter row
 * (001_init.sql) that stays locked until the unit commits, so ids follow commit order and a reader
 * resuming after an id misses nothing. A unit therefore keeps what it appends here and writes it
 * at its end, with its COMMIT in one round trip (`takeStatements`), or earlier where it must read
 * its own events (`takeQueries`, for listEvents). It keeps them all, written or not, for the
 * store's onCommit listeners. The reaper's statement, which records the horizon, is here too.
 */
import type { NewEvent } from '../task-store.js';
import { sqlLiteral } from './rows.js';

/** Where a savepoint left the unit's events (UnitEvents.mark). */
export interface EventsMark {
  appended: number;
  written: number;
}

export class UnitEvents {
  /**
   * @param wake the NOTIFY payload that tells other nodes this unit wrote deliveries (change-feed.ts
   *   encodeOutboxWake); the events' statement sends it only then.
   */
  constructor(private readonly wake: string) {}

  /** Every event the unit appended, in order: what onCommit listeners hear if it commits. */
  private readonly appended: NewEvent[] = [];
  /** How many of them are written already (the rest wait for the COMMIT). */
  private written = 0;

  append(events: readonly NewEvent[]): void {
    for (const e of events) this.appended.push(e);
  }

  get all(): readonly NewEvent[] {
    return this.appended;
  }

  /** A savepoint's position: two counts, since events are only ever added after it. */
  mark(): EventsMark {
    return { appended: this.appended.length, written: this.written };
  }

  /**
   * Back to a savepoint: its events are dropped, and those written since it (rolled back with it)
   * wait to be written again.
   */
  undo(mark: EventsMark): void {
    this.appended.length = mark.appended;
    this.written = mark.written;
  }

  /** The events not written yet as parameterized statements, to run now. */
  takeQueries(now: number): Array<{ text: string; values: unknown[] }> {
    return this.take().map(([orgId, events]) => ({
      text: eventsInsert({ orgId: '$1', count: '$2', time: '$3', events: '$4', wake: '$5' }),
      values: [orgId, events.length, now, eventsJson(events), this.wake],
    }));
  }

  /**
   * The events not written yet as statements with their values written in, `;`-terminated (or
   * ''), for the store to send with the COMMIT in one round trip.
   */
  takeStatements(now: number): string {
    let sql = '';
    for (const [orgId, events] of this.take()) {
      // Written into the text: a unit's time is an integer (the database's or a clock's ms).
      if (!Number.isSafeInteger(now)) throw new Error(`a write unit's time must be an integer, not ${now}`);
      const count = String(events.length);
      const values = { orgId: sqlLiteral(orgId), count, time: String(now), events: sqlLiteral(eventsJson(events)) };
      sql += `${eventsInsert({ ...values, wake: sqlLiteral(this.wake) })}; `;
    }
    return sql;
  }

  /** The events not written yet, by org, orgs in a fixed order (their counter rows are locked in it). */
  private take(): Array<[string, NewEvent[]]> {
    const byOrg = new Map<string, NewEvent[]>();
    for (let i = this.written; i < this.appended.length; i++) {
      const e = this.appended[i] as NewEvent;
      const list = byOrg.get(e.orgId);
      if (list) list.push(e);
      else byOrg.set(e.orgId, [e]);
    }
    this.written = this.appended.length;
    return [...byOrg.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/**
 * The statement that writes one org's events and fills the webhook outbox: a call of
 * append_events (008_webhooks.sql), whose plans PostgreSQL keeps for the session. Its five values
 * are SQL: parameters ($1 …) or literals. `events` is a JSON array of [taskId, type, taskType,
 * listId, projectId, data], each data embedded as it is.
 *
 * Written with the events, the deliveries commit or roll back with them (a SIGKILL after COMMIT
 * loses no delivery), and an org without endpoints and a task without a callback cost no extra
 * statement or round trip, only the two index probes of the joins. It answers how many
 * deliveries it wrote (the committing node wakes its dispatcher for those units only) and, when
 * there are some, NOTIFYs `wake` to the other nodes (on CHANNEL, change-feed.ts).
 */
const eventsInsert = (v: { orgId: string; count: string; time: string; events: string; wake: string }): string =>
  `SELECT append_events(${v.orgId}, ${v.count}, ${v.time}, ${v.events}::jsonb, ${v.wake}) AS ${DELIVERIES_COLUMN}`;

/** The column of the events' statement that counts the deliveries it wrote. */
export const DELIVERIES_COLUMN = 'deliveries_written';

/** How many deliveries the results of events' statements (and others, ignored) say were written. */
export function deliveriesWritten(results: ReadonlyArray<{ rows?: ReadonlyArray<Record<string, unknown>> }>): number {
  let n = 0;
  for (const r of results) {
    const value = r.rows?.[0]?.[DELIVERIES_COLUMN];
    if (typeof value === 'number') n += value;
  }
  return n;
}

/** A unit's events of one org as one JSON value (see jsonRows), each event's data embedded as it is. */
const eventsJson = (events: readonly NewEvent[]): string =>
  JSON.stringify(events.map((e) => [e.taskId, e.type, e.taskType, e.listId, e.projectId, e.data]));

/**
 * The reaper's deletion of events older than $1 (at most $2, found by the BRIN index on time),
 * raising each org's horizon to the highest id it deleted there, in the same statement: what it
 * deleted is exactly what it records. The orgs' horizon rows are written in org order, so two
 * nodes reaping at once wait for each other instead of deadlocking; `greatest` never lowers one.
 */
export const REAP_EVENTS_SQL = `WITH gone AS (
    DELETE FROM events WHERE (org_id, id) IN (SELECT org_id, id FROM events WHERE time < $1 LIMIT $2)
    RETURNING org_id, id
  )
  INSERT INTO event_horizons AS h (org_id, reaped_through)
  SELECT org_id, max(id) FROM gone GROUP BY org_id ORDER BY org_id
  ON CONFLICT (org_id) DO UPDATE SET reaped_through = greatest(h.reaped_through, EXCLUDED.reaped_through)`;
