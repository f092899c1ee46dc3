/**
 * The PostgreSQL adapter of the webhook contract (webhook-store.ts). Each method is one statement
 * (its own transaction) on the store's pool; the outbox itself is filled by the events' INSERT
 * (pg-events.ts). Times come from the store's clock when it has one (tests), else the database's.
 */
import type pg from 'pg';
import type {
  AttemptResult,
  ClaimedDelivery,
  Delivery,
  DeliveryStatus,
  TaskCallback,
  WebhookEndpoint,
  WebhookStore,
} from '../webhook-store.js';
import type { OutboxWakeups } from '../outbox-wakeups.js';
import { DELIVERY_COLUMNS, ENDPOINT_COLUMNS, type DeliveryRow, type EndpointRow } from '../webhook-rows.js';
import { fromWebhookRow } from './rows.js';
import { CHANNEL } from './change-feed.js';
import { storageError } from './pg-errors.js';

/** The unit's time: $1 when the store has a clock, else the database's clock. */
const NOW = `coalesce($1::bigint, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)`;

/** An endpoint's values in ENDPOINT_COLUMNS' order (text[] for the lists). */
const endpointValues = (e: WebhookEndpoint): unknown[] => [
  e.orgId,
  e.id,
  e.url,
  e.events,
  e.taskTypes,
  e.listId,
  e.description,
  e.enabled,
  e.disabledReason,
  e.secret,
  e.previousSecret,
  e.previousSecretUntil,
  e.failingSince,
  e.createdAt,
  e.updatedAt,
];

export class PgWebhooks implements WebhookStore {
  constructor(
    private readonly pool: pg.Pool,
    /** The store's clock, or null: the database's. */
    private readonly now: () => number | null,
    private readonly outbox: {
      wakeups: OutboxWakeups;
      /** The NOTIFY payload that wakes other nodes' dispatchers (change-feed.ts). */
      wake: string;
      /** Starts the store's LISTEN connection, which hears other nodes' wake-ups. */
      listen: () => void;
    },
  ) {}

  onDeliveries(listener: () => void): () => void {
    this.outbox.listen();
    return this.outbox.wakeups.add(listener);
  }

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query(text, values)).rows as R[];
    } catch (err) {
      throw storageError(err);
    }
  }

  async insertEndpoint(e: WebhookEndpoint): Promise<void> {
    const values = endpointValues(e);
    const params = values.map((_, i) => `$${i + 1}`).join(', ');
    await this.rows(`INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES (${params})`, values);
  }

  async getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null> {
    const sql = `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2`;
    const [row] = await this.rows<EndpointRow>(sql, [orgId, id]);
    return row === undefined ? null : fromWebhookRow.endpoint(row);
  }

  async listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    const sql = `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id`;
    return (await this.rows<EndpointRow>(sql, [orgId])).map(fromWebhookRow.endpoint);
  }

  async updateEndpoint(e: WebhookEndpoint, read: WebhookEndpoint): Promise<boolean> {
    const sql =
      'UPDATE webhook_endpoints SET url = $3, events = $4, task_types = $5, list_id = $6, description = $7, ' +
      'enabled = $8, disabled_reason = $9, secret = $10, previous_secret = $11, previous_secret_until = $12, ' +
      'failing_since = $13, updated_at = $14 WHERE org_id = $1 AND id = $2 ' +
      'AND enabled = $15 AND secret = $16 AND failing_since IS NOT DISTINCT FROM $17::bigint RETURNING id';
    // Every column but created_at ($1 … $14), then what the write compares.
    const values = [...endpointValues(e).slice(0, 13), e.updatedAt, read.enabled, read.secret, read.failingSince];
    return (await this.rows(sql, values)).length === 1;
  }

  async deleteEndpoint(orgId: string, id: string): Promise<boolean> {
    const sql = `WITH gone AS (DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2)
      DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2 RETURNING id`;
    return (await this.rows(sql, [orgId, id])).length === 1;
  }

  async callbackSecret(orgId: string, fresh: string): Promise<string> {
    // ON CONFLICT DO NOTHING: two nodes creating it at once keep the first; both read it back.
    await this.rows(
      `INSERT INTO webhook_callback_secrets (org_id, secret, created_at) VALUES ($2, $3, ${NOW}) ON CONFLICT DO NOTHING`,
      [this.now(), orgId, fresh],
    );
    const [row] = await this.rows<{ secret: string }>('SELECT secret FROM webhook_callback_secrets WHERE org_id = $1', [
      orgId,
    ]);
    return (row as { secret: string }).secret;
  }

  async getDelivery(orgId: string, id: string): Promise<Delivery | null> {
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND id = $2`;
    const [row] = await this.rows<DeliveryRow>(sql, [orgId, id]);
    return row === undefined ? null : fromWebhookRow.delivery(row);
  }

  async listDeliveries(
    orgId: string,
    filter: { webhookId: string } | { taskId: string },
    limit: number,
    after: string | null,
  ): Promise<Delivery[]> {
    const [column, value] = 'webhookId' in filter ? ['webhook_id', filter.webhookId] : ['task_id', filter.taskId];
    const sql =
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND ${column} = $2 ` +
      'AND ($3::text IS NULL OR (event_id, id) < (SELECT event_id, id FROM webhook_deliveries WHERE org_id = $1 AND id = $3)) ' +
      'ORDER BY event_id DESC, id DESC LIMIT $4';
    return (await this.rows<DeliveryRow>(sql, [orgId, value, after, limit])).map(fromWebhookRow.delivery);
  }

  async retryDelivery(orgId: string, id: string): Promise<Delivery | null> {
    // The NOTIFY (sent at this statement's commit) wakes the other nodes; this node wakes below.
    const sql =
      // A lease still running stays: its attempt is in flight and records its own outcome, so the
      // delivery is never sent twice at once (SET reads the old lease_until in both CASEs).
      `WITH due AS (UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${NOW}, ` +
      `lease_token = CASE WHEN lease_until > ${NOW} THEN lease_token END, ` +
      `lease_until = CASE WHEN lease_until > ${NOW} THEN lease_until END ` +
      `WHERE org_id = $2 AND id = $3 RETURNING ${DELIVERY_COLUMNS}) ` +
      `SELECT due.*, pg_notify('${CHANNEL}', $4) AS announced FROM due`;
    const [row] = await this.rows<DeliveryRow>(sql, [this.now(), orgId, id, this.outbox.wake]);
    if (row === undefined) return null;
    this.outbox.wakeups.emit();
    return fromWebhookRow.delivery(row);
  }

  async claimDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.rows<DeliveryRow & { lease_token: string; claimed_at: number }>(CLAIM_SQL, [
      this.now(),
      limit,
      leaseMs,
    ]);
    return rows.map((r) => ({ ...fromWebhookRow.delivery(r), leaseToken: r.lease_token, claimedAt: r.claimed_at }));
  }

  async finishAttempt(d: ClaimedDelivery, result: AttemptResult): Promise<boolean> {
    const status: DeliveryStatus = result.outcome === 'retry' ? 'pending' : result.outcome;
    const [row] = await this.rows<{ held: number }>(FINISH_SQL, [
      this.now(),
      d.orgId,
      d.id,
      d.leaseToken,
      status,
      JSON.stringify([result.attempt]),
      result.outcome === 'retry' ? (result.retryInMs ?? 0) : null,
      result.url,
      result.outcome === 'delivered',
      result.disableAfterMs,
      result.disableReason,
    ]);
    return (row?.held ?? 0) > 0;
  }

  async releaseDelivery(d: ClaimedDelivery): Promise<boolean> {
    // The NOTIFY (at this statement's commit) tells the other nodes' dispatchers it is theirs now.
    const sql =
      'WITH freed AS (UPDATE webhook_deliveries SET lease_until = NULL, lease_token = NULL ' +
      'WHERE org_id = $1 AND id = $2 AND lease_token = $3 RETURNING 1) ' +
      `SELECT count(*)::int AS n, CASE WHEN count(*) > 0 THEN pg_notify('${CHANNEL}', $4) END AS announced FROM freed`;
    const [row] = await this.rows<{ n: number }>(sql, [d.orgId, d.id, d.leaseToken, this.outbox.wake]);
    return (row?.n ?? 0) > 0;
  }

  async countPendingDeliveries(): Promise<number> {
    const sql = "SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'";
    const [row] = await this.rows<{ n: number }>(sql, []);
    return row?.n ?? 0;
  }

  async pruneDeliveries(before: number, limit: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>(PRUNE_SQL, [before, limit]);
    return row?.n ?? 0;
  }
}

/** Writes tasks' callbacks inside a write unit (PgUnit.putTaskCallbacks), as one statement. */
export function taskCallbacksInsert(callbacks: readonly TaskCallback[]): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO task_callbacks (org_id, task_id, url, events)
      SELECT x ->> 0, x ->> 1, x ->> 2, CASE WHEN x -> 3 = 'null' THEN NULL
             ELSE ARRAY(SELECT jsonb_array_elements_text(x -> 3)) END
        FROM jsonb_array_elements($1::jsonb) AS x`,
    values: [JSON.stringify(callbacks.map((c) => [c.orgId, c.taskId, c.url, c.events]))],
  };
}

/**
 * Due pending deliveries, leased. FOR UPDATE SKIP LOCKED: nodes claiming at once take different
 * rows; the lease (lease_until) keeps a claimed row from every other claim until it ends, so a
 * killed node's deliveries come back then. NOT EXISTS keeps a task's deliveries to one target in
 * event order: an earlier one still pending (in flight or waiting for its retry) holds it back.
 */
const CLAIM_SQL = `WITH now AS (SELECT ${NOW} AS t),
  due AS (
    SELECT d.org_id, d.id FROM webhook_deliveries AS d, now
     WHERE d.status = 'pending' AND d.next_attempt_at <= now.t AND (d.lease_until IS NULL OR d.lease_until <= now.t)
       -- A disabled endpoint's deliveries wait, pending, until it is enabled again.
       AND (d.webhook_id = '' OR EXISTS (SELECT 1 FROM webhook_endpoints AS e
                                          WHERE e.org_id = d.org_id AND e.id = d.webhook_id AND e.enabled))
       -- An earlier delivery of the task to the target still pending: by webhook_deliveries_pending.
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS p
                        WHERE ARRAY[p.org_id, p.task_id, p.webhook_id] = ARRAY[d.org_id, d.task_id, d.webhook_id]
                          AND p.event_id < d.event_id AND p.status = 'pending')
     ORDER BY d.next_attempt_at LIMIT $2
     FOR UPDATE OF d SKIP LOCKED)
  UPDATE webhook_deliveries AS w
     SET lease_until = now.t + $3, lease_token = md5(random()::text || w.id)
    FROM due, now
   WHERE w.org_id = due.org_id AND w.id = due.id
  RETURNING ${DELIVERY_COLUMNS.split(', ')
    .map((c) => `w.${c}`)
    .join(', ')}, w.lease_token, now.t AS claimed_at`;

/**
 * One attempt recorded, if the lease is still ours ($4), with the endpoint's failing streak in
 * the same statement: cleared by a delivery, else started, and past $10 ms the endpoint disabled.
 */
const FINISH_SQL = `WITH now AS (SELECT ${NOW} AS t),
  d AS (
    UPDATE webhook_deliveries AS w
       SET status = $5, attempts = w.attempts || $6::jsonb, attempt_count = w.attempt_count + 1,
           next_attempt_at = CASE WHEN $7::bigint IS NULL THEN NULL ELSE now.t + $7::bigint END,
           url = $8, lease_until = NULL, lease_token = NULL
      FROM now
     WHERE w.org_id = $2 AND w.id = $3 AND w.lease_token = $4
    RETURNING w.webhook_id
  ),
  e AS (
    UPDATE webhook_endpoints AS e
       SET failing_since = CASE WHEN $9 THEN NULL ELSE coalesce(e.failing_since, now.t) END,
           enabled = CASE WHEN NOT $9 AND coalesce(e.failing_since, now.t) <= now.t - $10::bigint THEN false
                          ELSE e.enabled END,
           disabled_reason = CASE WHEN NOT $9 AND e.enabled AND coalesce(e.failing_since, now.t) <= now.t - $10::bigint
                                  THEN $11 ELSE e.disabled_reason END,
           updated_at = CASE WHEN NOT $9 AND e.enabled AND coalesce(e.failing_since, now.t) <= now.t - $10::bigint
                             THEN now.t ELSE e.updated_at END
      FROM now
     WHERE e.org_id = $2 AND e.id IN (SELECT webhook_id FROM d)
  )
  SELECT count(*)::int AS held FROM d`;

const PRUNE_SQL = `WITH gone AS (
    DELETE FROM webhook_deliveries WHERE (org_id, id) IN (
      SELECT org_id, id FROM webhook_deliveries WHERE created_at < $1 AND status <> 'pending' LIMIT $2)
    RETURNING 1
  ), orphans AS (
    DELETE FROM task_callbacks WHERE (org_id, task_id) IN (
      SELECT c.org_id, c.task_id FROM task_callbacks AS c
       WHERE NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.org_id = c.org_id AND t.id = c.task_id) LIMIT $2)
  )
  SELECT count(*)::int AS n FROM gone`;
