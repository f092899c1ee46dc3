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

-- The outbox: one row per (event, target), written with the events by append_events below, in
-- the unit that writes the event. webhook_id '' is a task's callback. The event is copied (it
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
-- A task's deliveries.
CREATE INDEX webhook_deliveries_task ON webhook_deliveries (org_id, task_id, webhook_id, event_id);
-- Event order per (task, target): the claim's probe for an earlier pending delivery, pending rows
-- only. Keyed by the array (org, task, target) so that it is the only index the probe can use: on
-- plain columns, a young table without statistics had the probe walk the endpoint index through
-- every earlier delivery of the endpoint (365 ms a claim at 2,000 pending, against 9 ms).
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries ((ARRAY[org_id, task_id, webhook_id]), event_id)
  WHERE status = 'pending';
-- An endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (org_id, webhook_id, event_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Writes one org's events, numbered from its counter (the counter row stays locked until the unit
-- commits, so ids follow commit order), and their deliveries: one per event and matching enabled
-- endpoint, one per event a task's callback asks for. `events` is a JSON array of [taskId, type,
-- taskType, listId, projectId, data]. Returns how many deliveries it wrote and, when there are
-- some, NOTIFYs `wake` (delivered at commit, never for a rollback) so other nodes' dispatchers
-- wake. A function and not a statement sent each time: PL/pgSQL keeps its statements' plans for
-- the session, where the statement sent with every COMMIT (its values written in) was parsed and
-- planned on every call, four times the cost of the events' insert alone (bench/README.md).
CREATE FUNCTION append_events(p_org text, p_count bigint, p_time bigint, p_events jsonb, p_wake text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  WITH counter AS (
    INSERT INTO event_counters AS c (org_id, last_id) VALUES (p_org, p_count)
    ON CONFLICT (org_id) DO UPDATE SET last_id = c.last_id + EXCLUDED.last_id
    RETURNING last_id
  ), ev AS (
    INSERT INTO events (org_id, id, task_id, type, task_type, list_id, project_id, time, data)
    SELECT p_org, counter.last_id - p_count + x.ord, x.e ->> 0, x.e ->> 1, x.e ->> 2, x.e ->> 3, x.e ->> 4,
           p_time, x.e -> 5
      FROM counter, jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, ord)
    RETURNING org_id, id, task_id, type, task_type, list_id, time, data
  )
  INSERT INTO webhook_deliveries
    (org_id, id, webhook_id, url, event_id, event_type, task_id, event_time, data, next_attempt_at, created_at)
  SELECT ev.org_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), w.id, w.url, ev.id, ev.type, ev.task_id,
         ev.time, ev.data, ev.time, ev.time
    FROM ev JOIN webhook_endpoints AS w ON w.org_id = ev.org_id
   WHERE w.enabled AND ev.type = ANY (w.events)
     AND (w.task_types IS NULL OR ev.task_type = ANY (w.task_types))
     AND (w.list_id IS NULL OR w.list_id = ev.list_id)
  UNION ALL
  SELECT ev.org_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), '', c.url, ev.id, ev.type, ev.task_id,
         ev.time, ev.data, ev.time, ev.time
    FROM ev JOIN task_callbacks AS c ON c.org_id = ev.org_id AND c.task_id = ev.task_id
   WHERE CASE WHEN c.events IS NULL
              THEN ev.type = 'task.status_changed' AND ev.data ->> 'to' IN ('completed', 'failed', 'canceled')
              ELSE ev.type = ANY (c.events) END;
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written > 0 THEN
    PERFORM pg_notify('tasklane_changes', p_wake);
  END IF;
  RETURN written;
END
$$;
