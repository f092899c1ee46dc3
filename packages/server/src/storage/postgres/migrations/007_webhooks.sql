-- Webhooks (docs/webhooks.md): endpoints, the org's callback secret, per-task callbacks and the
-- delivery outbox. Every table is keyed by org_id first.
CREATE TABLE webhook_endpoints (
  org_id                 text COLLATE "C" NOT NULL,
  id                     text COLLATE "C" NOT NULL,
  url                    text NOT NULL,
  events                 text[] NOT NULL,
  -- NULL: every task type.
  task_types             text[],
  list_id                text COLLATE "C",
  description            text,
  enabled                boolean NOT NULL,
  disabled_reason        text,
  secret                 text NOT NULL,
  -- After a rotation the previous secret signs beside the new one until previous_secret_until.
  previous_secret        text,
  previous_secret_until  bigint,
  -- Since when every attempt to this endpoint failed (NULL: the last one succeeded, or none ran).
  failing_since          bigint,
  created_at             bigint NOT NULL,
  updated_at             bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);

CREATE TABLE webhook_callback_secrets (
  org_id      text COLLATE "C" PRIMARY KEY,
  secret      text NOT NULL,
  created_at  bigint NOT NULL
);

-- A task's callback (create's callbackUrl); events NULL: the terminal status change only.
CREATE TABLE task_callbacks (
  org_id   text COLLATE "C" NOT NULL,
  task_id  text COLLATE "C" NOT NULL,
  url      text NOT NULL,
  events   text[],
  PRIMARY KEY (org_id, task_id)
);

-- The outbox: one row per (event, target), written by the events' own statement (pg-events.ts)
-- in the unit that writes the event. webhook_id '' is a task's callback. The event is copied (it
-- outlives the events' 24 h retention while its retries run).
CREATE TABLE webhook_deliveries (
  org_id           text COLLATE "C" NOT NULL,
  id               text COLLATE "C" NOT NULL,
  webhook_id       text COLLATE "C" NOT NULL,
  url              text NOT NULL,
  event_id         bigint NOT NULL,
  event_type       text NOT NULL,
  task_id          text COLLATE "C" NOT NULL,
  event_time       bigint NOT NULL,
  data             jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending',
  attempts         jsonb NOT NULL DEFAULT '[]',
  attempt_count    integer NOT NULL DEFAULT 0,
  next_attempt_at  bigint,
  lease_until      bigint,
  lease_token      text,
  created_at       bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);
-- The dispatcher's claim (across orgs, like the sweeper's overdue tasks): pending rows by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- Event order per (task, target), and a task's deliveries.
CREATE INDEX webhook_deliveries_task ON webhook_deliveries (org_id, task_id, webhook_id, event_id);
-- An endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (org_id, webhook_id, event_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
