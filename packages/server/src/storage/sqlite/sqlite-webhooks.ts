/**
 * The SQLite adapter of the webhook contract (webhook-store.ts). Each method is one unit on the
 * store's writer (queued, BEGIN IMMEDIATE) or reader connection; the outbox itself is filled by
 * the events trigger of 010_webhooks.sql.
 */
import { randomBytes } from 'node:crypto';
import type {
  AttemptResult,
  ClaimedDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  TaskCallback,
  WebhookEndpoint,
  WebhookStore,
} from '../webhook-store.js';
import type { OutboxWakeups } from '../outbox-wakeups.js';
import { DELIVERY_COLUMNS, ENDPOINT_COLUMNS, type DeliveryRow, type EndpointRow } from '../webhook-rows.js';
import { fromWebhookRow } from './rows.js';
import { prepared, type Db } from './sqlite-reader.js';

/** Runs `fn` synchronously in a unit of the store, with the unit's time. */
export type SqliteUnitRunner = <T>(fn: (db: Db, now: number) => T) => Promise<T>;

const endpointValues = (e: WebhookEndpoint): unknown[] => [
  e.orgId,
  e.id,
  e.url,
  JSON.stringify(e.events),
  e.taskTypes === null ? null : JSON.stringify(e.taskTypes),
  e.listId,
  e.description,
  e.enabled ? 1 : 0,
  e.disabledReason,
  e.secret,
  e.previousSecret,
  e.previousSecretUntil,
  e.failingSince,
  e.createdAt,
  e.updatedAt,
];

/** Where `before` (a delivery id) sits in the newest-first order, as SQL. */
const AFTER = `AND (? IS NULL OR (event_id, id) < (SELECT event_id, id FROM webhook_deliveries WHERE org_id = ? AND id = ?))`;

export class SqliteWebhooks implements WebhookStore {
  constructor(
    private readonly write: SqliteUnitRunner,
    private readonly read: SqliteUnitRunner,
    private readonly wakeups: OutboxWakeups,
  ) {}

  onDeliveries(listener: () => void): () => void {
    return this.wakeups.add(listener);
  }

  insertEndpoint(e: WebhookEndpoint): Promise<void> {
    return this.write((db) => {
      prepared(db, `INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES (${qs(15)})`).run(...endpointValues(e));
    });
  }

  getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.read((db) => {
      const sql = `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND id = ?`;
      const row = prepared(db, sql).get(orgId, id) as EndpointRow | undefined;
      return row === undefined ? null : fromWebhookRow.endpoint(row);
    });
  }

  listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return this.read((db) => {
      const sql = `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? ORDER BY created_at, id`;
      return (prepared(db, sql).all(orgId) as EndpointRow[]).map(fromWebhookRow.endpoint);
    });
  }

  updateEndpoint(e: WebhookEndpoint, read: WebhookEndpoint): Promise<boolean> {
    return this.write((db) => {
      const sql =
        'UPDATE webhook_endpoints SET url = ?, events = ?, task_types = ?, list_id = ?, description = ?, ' +
        'enabled = ?, disabled_reason = ?, secret = ?, previous_secret = ?, previous_secret_until = ?, ' +
        'failing_since = ?, updated_at = ? WHERE org_id = ? AND id = ? ' +
        'AND enabled = ? AND secret = ? AND failing_since IS ?';
      const [orgId, id, ...rest] = endpointValues(e);
      const values = rest
        .slice(0, 11)
        .concat([e.updatedAt, orgId, id, read.enabled ? 1 : 0, read.secret, read.failingSince]);
      return prepared(db, sql).run(...values).changes === 1;
    });
  }

  deleteEndpoint(orgId: string, id: string): Promise<boolean> {
    return this.write((db) => {
      prepared(db, 'DELETE FROM webhook_deliveries WHERE org_id = ? AND webhook_id = ?').run(orgId, id);
      return prepared(db, 'DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
    });
  }

  callbackSecret(orgId: string, fresh: string): Promise<string> {
    return this.write((db, now) => {
      prepared(db, 'INSERT OR IGNORE INTO webhook_callback_secrets (org_id, secret, created_at) VALUES (?, ?, ?)').run(
        orgId,
        fresh,
        now,
      );
      const row = prepared(db, 'SELECT secret FROM webhook_callback_secrets WHERE org_id = ?').get(orgId) as {
        secret: string;
      };
      return row.secret;
    });
  }

  getDelivery(orgId: string, id: string): Promise<Delivery | null> {
    return this.read((db) => {
      const sql = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ? AND id = ?`;
      const row = prepared(db, sql).get(orgId, id) as DeliveryRow | undefined;
      return row === undefined ? null : fromWebhookRow.delivery(row);
    });
  }

  listDeliveries(
    orgId: string,
    filter: { webhookId: string } | { taskId: string },
    limit: number,
    after: string | null,
  ): Promise<Delivery[]> {
    return this.read((db) => {
      const [column, value] = 'webhookId' in filter ? ['webhook_id', filter.webhookId] : ['task_id', filter.taskId];
      const sql =
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ? AND ${column} = ? ${AFTER} ` +
        'ORDER BY event_id DESC, id DESC LIMIT ?';
      const rows = prepared(db, sql).all(orgId, value, after, orgId, after, limit) as DeliveryRow[];
      return rows.map(fromWebhookRow.delivery);
    });
  }

  async retryDelivery(orgId: string, id: string): Promise<Delivery | null> {
    const delivery = await this.write((db, now) => {
      // A lease still running stays: its attempt is in flight and records its own outcome, so the
      // delivery is never sent twice at once (SET reads the old lease_until in both CASEs).
      const sql =
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @now, " +
        'lease_token = CASE WHEN lease_until > @now THEN lease_token END, ' +
        'lease_until = CASE WHEN lease_until > @now THEN lease_until END ' +
        `WHERE org_id = @org AND id = @id RETURNING ${DELIVERY_COLUMNS}`;
      const row = prepared(db, sql).get({ now, org: orgId, id }) as DeliveryRow | undefined;
      return row === undefined ? null : fromWebhookRow.delivery(row);
    });
    if (delivery !== null) this.wakeups.emit();
    return delivery;
  }

  async claimDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    // A look on the reader first: the claim takes the write lock, which the hot path needs, and
    // most of the time there is nothing due.
    if (!(await this.read((db, now) => prepared(db, DUE_SQL).get(now) !== undefined))) return [];
    // The whole unit holds SQLite's write lock: no other claim runs between the SELECT and the UPDATE.
    return this.write((db, now) => {
      const rows = prepared(db, CLAIM_SQL).all(now, now, limit) as DeliveryRow[];
      const lease = prepared(
        db,
        'UPDATE webhook_deliveries SET lease_until = ?, lease_token = ? WHERE org_id = ? AND id = ?',
      );
      return rows.map((r) => {
        const leaseToken = randomBytes(12).toString('hex');
        lease.run(now + leaseMs, leaseToken, r.org_id, r.id);
        return { ...fromWebhookRow.delivery(r), leaseToken, claimedAt: now };
      });
    });
  }

  finishAttempt(d: ClaimedDelivery, result: AttemptResult): Promise<boolean> {
    return this.write((db, now) => {
      const held = prepared(
        db,
        'SELECT attempts FROM webhook_deliveries WHERE org_id = ? AND id = ? AND lease_token = ?',
      ).get(d.orgId, d.id, d.leaseToken) as { attempts: string } | undefined;
      if (held === undefined) return false;
      const attempts = [...(JSON.parse(held.attempts) as DeliveryAttempt[]), result.attempt];
      const status: DeliveryStatus = result.outcome === 'retry' ? 'pending' : result.outcome;
      const next = result.outcome === 'retry' ? now + (result.retryInMs ?? 0) : null;
      prepared(
        db,
        'UPDATE webhook_deliveries SET status = ?, attempts = ?, attempt_count = ?, next_attempt_at = ?, url = ?, ' +
          'lease_until = NULL, lease_token = NULL WHERE org_id = ? AND id = ?',
      ).run(status, JSON.stringify(attempts), attempts.length, next, result.url, d.orgId, d.id);
      if (d.webhookId !== null) {
        const args = {
          reason: result.disableReason,
          now,
          cutoff: now - result.disableAfterMs,
          org: d.orgId,
          id: d.webhookId,
        };
        if (result.outcome === 'delivered') {
          prepared(db, 'UPDATE webhook_endpoints SET failing_since = NULL WHERE org_id = ? AND id = ?').run(
            d.orgId,
            d.webhookId,
          );
        } else prepared(db, FAILING_SQL).run(args);
      }
      return true;
    });
  }

  releaseDelivery(d: ClaimedDelivery): Promise<boolean> {
    return this.write(
      (db) =>
        prepared(
          db,
          'UPDATE webhook_deliveries SET lease_until = NULL, lease_token = NULL ' +
            'WHERE org_id = ? AND id = ? AND lease_token = ?',
        ).run(d.orgId, d.id, d.leaseToken).changes === 1,
    );
  }

  countPendingDeliveries(): Promise<number> {
    return this.read(
      (db) =>
        (prepared(db, "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'").get() as { n: number })
          .n,
    );
  }

  pruneDeliveries(before: number, limit: number): Promise<number> {
    return this.write((db) => {
      const gone = prepared(
        db,
        'DELETE FROM webhook_deliveries WHERE (org_id, id) IN (SELECT org_id, id FROM webhook_deliveries ' +
          "WHERE created_at < ? AND status <> 'pending' LIMIT ?)",
      ).run(before, limit).changes;
      prepared(
        db,
        'DELETE FROM task_callbacks WHERE (org_id, task_id) IN (SELECT c.org_id, c.task_id FROM task_callbacks AS c ' +
          'WHERE NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.org_id = c.org_id AND t.id = c.task_id) LIMIT ?)',
      ).run(limit);
      return gone;
    });
  }
}

/** Writes tasks' callbacks inside a write unit (SqliteUnit.putTaskCallbacks). */
export function insertTaskCallbacks(db: Db, callbacks: readonly TaskCallback[]): void {
  const insert = prepared(db, 'INSERT INTO task_callbacks (org_id, task_id, url, events) VALUES (?, ?, ?, ?)');
  for (const c of callbacks) insert.run(c.orgId, c.taskId, c.url, c.events === null ? null : JSON.stringify(c.events));
}

const qs = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** A disabled endpoint's deliveries wait, pending, until it is enabled again (a callback has no endpoint). */
const ENDPOINT_ENABLED = `(d.webhook_id = '' OR EXISTS (SELECT 1 FROM webhook_endpoints AS e
                  WHERE e.org_id = d.org_id AND e.id = d.webhook_id AND e.enabled = 1))`;
const CLAIMABLE = `status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
  AND ${ENDPOINT_ENABLED}
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS p WHERE p.org_id = d.org_id AND p.task_id = d.task_id
                  AND p.webhook_id = d.webhook_id AND p.event_id < d.event_id AND p.status = 'pending')`;
const DUE_SQL = `SELECT 1 FROM webhook_deliveries AS d WHERE status = 'pending' AND next_attempt_at <= ? AND ${ENDPOINT_ENABLED} LIMIT 1`;
const CLAIM_SQL = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries AS d WHERE ${CLAIMABLE} ORDER BY next_attempt_at LIMIT ?`;
/** A failed attempt: failing since now unless already; disabled once failing since before the cutoff. */
const FAILING_SQL = `UPDATE webhook_endpoints SET
    failing_since = coalesce(failing_since, @now),
    enabled = CASE WHEN coalesce(failing_since, @now) <= @cutoff THEN 0 ELSE enabled END,
    disabled_reason = CASE WHEN coalesce(failing_since, @now) <= @cutoff AND enabled = 1 THEN @reason
                           ELSE disabled_reason END,
    updated_at = CASE WHEN coalesce(failing_since, @now) <= @cutoff AND enabled = 1 THEN @now ELSE updated_at END
  WHERE org_id = @org AND id = @id`;
