-- Webhooks (docs/webhooks.md): endpoints, the org's callback secret, per-task callbacks and the
-- delivery outbox. Every table is keyed by org_id first.
CREATE TABLE webhook_endpoints (
  org_id                 TEXT NOT NULL,
  id                     TEXT NOT NULL,
  url                    TEXT NOT NULL,
  -- JSON arrays of event types / task types (task_types NULL: every type).
  events                 TEXT NOT NULL,
  task_types             TEXT,
  list_id                TEXT,
  description            TEXT,
  enabled                INTEGER NOT NULL,
  disabled_reason        TEXT,
  secret                 TEXT NOT NULL,
  -- After a rotation the previous secret signs beside the new one until previous_secret_until.
  previous_secret        TEXT,
  previous_secret_until  INTEGER,
  -- Since when every attempt to this endpoint failed (NULL: the last one succeeded, or none ran).
  failing_since          INTEGER,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_callback_secrets (
  org_id      TEXT PRIMARY KEY,
  secret      TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- A task's callback (create's callbackUrl); events NULL: the terminal status change only.
CREATE TABLE task_callbacks (
  org_id   TEXT NOT NULL,
  task_id  TEXT NOT NULL,
  url      TEXT NOT NULL,
  events   TEXT,
  PRIMARY KEY (org_id, task_id)
) WITHOUT ROWID;

-- The outbox: one row per (event, target), written by the trigger below in the unit that writes
-- the event. webhook_id '' is a task's callback. The event is copied (it outlives the events'
-- 24 h retention while its retries run).
CREATE TABLE webhook_deliveries (
  org_id           TEXT NOT NULL,
  id               TEXT NOT NULL,
  webhook_id       TEXT NOT NULL,
  url              TEXT NOT NULL,
  event_id         INTEGER NOT NULL,
  event_type       TEXT NOT NULL,
  task_id          TEXT NOT NULL,
  event_time       INTEGER NOT NULL,
  data             TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending',
  attempts         TEXT NOT NULL DEFAULT '[]',
  attempt_count    INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  lease_until      INTEGER,
  lease_token      TEXT,
  created_at       INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
-- The dispatcher's claim (across orgs, like the sweeper's overdue tasks): pending rows by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- Event order per (task, target), and a task's deliveries.
CREATE INDEX webhook_deliveries_task ON webhook_deliveries (org_id, task_id, webhook_id, event_id);
-- An endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (org_id, webhook_id, event_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- The outbox is filled in the statement that writes the event, so it commits (or not) with it.
-- An org without endpoints and a task without a callback cost the two index probes of the WHEN.
-- tasklane_outbox_written() is the store's own function (sqlite-store.ts): it tells the store that
-- the unit wrote deliveries, so the dispatcher is woken after that commit and no other.
CREATE TRIGGER events_webhook_outbox AFTER INSERT ON events
WHEN EXISTS (SELECT 1 FROM webhook_endpoints WHERE org_id = NEW.org_id)
  OR EXISTS (SELECT 1 FROM task_callbacks WHERE org_id = NEW.org_id AND task_id = NEW.task_id)
BEGIN
  INSERT INTO webhook_deliveries
    (org_id, id, webhook_id, url, event_id, event_type, task_id, event_time, data, next_attempt_at, created_at)
  SELECT NEW.org_id, 'msg_' || lower(hex(randomblob(12))), w.id, w.url, NEW.id, NEW.type, NEW.task_id,
         NEW.time, NEW.data, NEW.time, NEW.time
    FROM webhook_endpoints AS w
   WHERE w.org_id = NEW.org_id AND w.enabled = 1
     AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = NEW.type)
     AND (w.task_types IS NULL OR EXISTS (SELECT 1 FROM json_each(w.task_types) WHERE value = NEW.task_type))
     AND (w.list_id IS NULL OR w.list_id = NEW.list_id);
  SELECT tasklane_outbox_written() WHERE changes() > 0;
  INSERT INTO webhook_deliveries
    (org_id, id, webhook_id, url, event_id, event_type, task_id, event_time, data, next_attempt_at, created_at)
  SELECT NEW.org_id, 'msg_' || lower(hex(randomblob(12))), '', c.url, NEW.id, NEW.type, NEW.task_id,
         NEW.time, NEW.data, NEW.time, NEW.time
    FROM task_callbacks AS c
   WHERE c.org_id = NEW.org_id AND c.task_id = NEW.task_id
     AND CASE WHEN c.events IS NULL
              THEN NEW.type = 'task.status_changed'
                   AND json_extract(NEW.data, '$.to') IN ('completed', 'failed', 'canceled')
              ELSE EXISTS (SELECT 1 FROM json_each(c.events) WHERE value = NEW.type) END;
  SELECT tasklane_outbox_written() WHERE changes() > 0;
END;
