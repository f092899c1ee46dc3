/**
 * The events of one PostgreSQL write unit. Event ids are numbered per org from a counter row
 * (001_init.sql) that stays locked until the unit commits, so ids follow commit order and a reader
 * resuming after an id misses nothing. A unit therefore keeps what it appends here and writes it
 * at its end, with its COMMIT in one round trip (`takeStatements`), or earlier where it must read
 * its own events (`takeQueries`, for listEvents). The reaper's statement, which records the
 * horizon, is here too.
 */
import type { NewEvent } from '../task-store.js';
import { sqlLiteral } from './rows.js';

export class UnitEvents {
  private events: NewEvent[] = [];

  append(events: readonly NewEvent[]): void {
    this.events.push(...events);
  }

  /** A savepoint: a copy, since a flush inside it empties the buffer and a rollback must bring those back. */
  mark(): NewEvent[] {
    return [...this.events];
  }

  undo(mark: NewEvent[]): void {
    this.events = mark;
  }

  /** The buffered events as parameterized statements, to run now; the buffer is emptied. */
  takeQueries(now: number): Array<{ text: string; values: unknown[] }> {
    return this.take().map(([orgId, events]) => ({
      text: eventsInsert({ orgId: '$1', count: '$2', time: '$3', events: '$4' }),
      values: [orgId, events.length, now, eventsJson(events)],
    }));
  }

  /**
   * The buffered events as statements with their values written in, `;`-terminated (or ''), for
   * the store to send with the COMMIT in one round trip; the buffer is emptied.
   */
  takeStatements(now: number): string {
    let sql = '';
    for (const [orgId, events] of this.take()) {
      // Written into the text: a unit's time is an integer (the database's or a clock's ms).
      if (!Number.isSafeInteger(now)) throw new Error(`a write unit's time must be an integer, not ${now}`);
      const count = String(events.length);
      sql += `${eventsInsert({ orgId: sqlLiteral(orgId), count, time: String(now), events: sqlLiteral(eventsJson(events)) })}; `;
    }
    return sql;
  }

  /** The buffered events by org, orgs in a fixed order (their counter rows are locked in it). */
  private take(): Array<[string, NewEvent[]]> {
    const byOrg = new Map<string, NewEvent[]>();
    for (const e of this.events) {
      const list = byOrg.get(e.orgId);
      if (list) list.push(e);
      else byOrg.set(e.orgId, [e]);
    }
    this.events = [];
    return [...byOrg.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/**
 * The statement that writes one org's events, numbered from its counter: the counter row stays
 * locked until the unit commits. Its four values are SQL: parameters ($1 …) or literals. `events`
 * is a JSON array of [taskId, type, taskType, listId, projectId, data], each data embedded as it is.
 */
const eventsInsert = (v: { orgId: string; count: string; time: string; events: string }): string =>
  `WITH counter AS (
     INSERT INTO event_counters AS c (org_id, last_id) VALUES (${v.orgId}, ${v.count})
     ON CONFLICT (org_id) DO UPDATE SET last_id = c.last_id + EXCLUDED.last_id
     RETURNING last_id
   )
   INSERT INTO events (org_id, id, task_id, type, task_type, list_id, project_id, time, data)
   SELECT ${v.orgId}, counter.last_id - ${v.count} + x.ord, x.e ->> 0, x.e ->> 1, x.e ->> 2, x.e ->> 3, x.e ->> 4,
          ${v.time}, x.e -> 5
     FROM counter, jsonb_array_elements(${v.events}::jsonb) WITH ORDINALITY AS x(e, ord)`;

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
