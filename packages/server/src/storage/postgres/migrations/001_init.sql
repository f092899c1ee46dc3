-- Tasklane schema, PostgreSQL (the same tables as sqlite/migrations/001_init.sql, in PostgreSQL's
-- types). The migrator runs `CREATE SCHEMA IF NOT EXISTS <schema>` and sets search_path to it
-- before this file, under its advisory lock, so the names here are unqualified.
-- Every table carries org_id leading its primary key or main index. Times are epoch milliseconds
-- (BIGINT); JSON columns are jsonb. Key columns compare bytewise (COLLATE "C"), as in SQLite, so
-- ids, types and keys sort the same on every backend and every server locale.

CREATE TABLE orgs (
  id          text COLLATE "C" PRIMARY KEY,
  name        text NOT NULL,
  created_at  bigint NOT NULL
);

CREATE TABLE api_keys (
  org_id      text COLLATE "C" NOT NULL REFERENCES orgs(id),
  id          text COLLATE "C" NOT NULL,
  name        text NOT NULL,
  scopes      jsonb NOT NULL,
  hash        text COLLATE "C" NOT NULL,
  created_at  bigint NOT NULL,
  expires_at  bigint,
  revoked_at  bigint,
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);

CREATE TABLE projects (
  org_id       text COLLATE "C" NOT NULL,
  id           text COLLATE "C" NOT NULL,
  key          text COLLATE "C" NOT NULL,
  name         text NOT NULL,
  next_number  bigint NOT NULL,
  created_at   bigint NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX projects_key ON projects (org_id, key);

CREATE TABLE tasks (
  org_id                 text COLLATE "C" NOT NULL,
  id                     text COLLATE "C" NOT NULL,
  project_id             text COLLATE "C",
  identifier             text COLLATE "C",
  list_id                text COLLATE "C",
  type                   text COLLATE "C" NOT NULL,
  title                  text NOT NULL,
  description            text,
  input                  jsonb NOT NULL,
  status                 text COLLATE "C" NOT NULL,
  priority               integer NOT NULL,
  progress               double precision,
  progress_message       text,
  result                 jsonb NOT NULL,
  error                  jsonb,
  attempt                integer NOT NULL,
  retry_count            integer NOT NULL,
  max_retries            integer NOT NULL,
  retry_policy           jsonb NOT NULL,
  lease_ms               bigint,
  timeout_ms             bigint,
  run_at                 bigint,
  depends_on             jsonb NOT NULL,
  blocked_by             jsonb NOT NULL,
  blocked_reason         text,
  block_kind             text,
  on_dependency_failure  text NOT NULL,
  assignee               text COLLATE "C",
  created_by             text,
  poll_count             integer NOT NULL,
  requires_review        boolean NOT NULL,
  metadata               jsonb NOT NULL,
  labels                 jsonb NOT NULL,
  idempotency_key        text,
  ttl_seconds            bigint NOT NULL,
  version                integer NOT NULL,
  created_at             bigint NOT NULL,
  updated_at             bigint NOT NULL,
  queued_at              bigint,
  started_at             bigint,
  completed_at           bigint,
  blocked_at             bigint,
  archived_at            bigint,
  expires_at             bigint,
  timeout_at             bigint,
  lease_id               text,
  lease_worker_id        text,
  lease_expires_at       bigint,
  -- The length of the current lease (asked for at claim), which a heartbeat without extendMs renews.
  lease_length_ms        bigint,
  PRIMARY KEY (org_id, id)
);

CREATE UNIQUE INDEX tasks_identifier ON tasks (org_id, identifier) WHERE identifier IS NOT NULL;
CREATE INDEX tasks_status ON tasks (org_id, status, id);
CREATE INDEX tasks_list ON tasks (org_id, list_id, id) WHERE list_id IS NOT NULL;
CREATE INDEX tasks_project ON tasks (org_id, project_id, id) WHERE project_id IS NOT NULL;
CREATE INDEX tasks_type ON tasks (org_id, type, id);
-- Claim order: priority, then runAt/queuedAt, then id (SPEC §5).
CREATE INDEX tasks_claimable ON tasks (org_id, type, priority DESC, coalesce(run_at, queued_at), id)
  WHERE status = 'queued';
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE status = 'in_progress';
CREATE INDEX tasks_timeouts ON tasks (timeout_at) WHERE status = 'in_progress' AND timeout_at IS NOT NULL;
CREATE INDEX tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE task_deps (
  org_id         text COLLATE "C" NOT NULL,
  depends_on_id  text COLLATE "C" NOT NULL,
  task_id        text COLLATE "C" NOT NULL,
  PRIMARY KEY (org_id, depends_on_id, task_id)
);

CREATE TABLE steps (
  org_id   text COLLATE "C" NOT NULL,
  task_id  text COLLATE "C" NOT NULL,
  seq      integer NOT NULL,
  time     bigint NOT NULL,
  message  text NOT NULL,
  data     jsonb,
  PRIMARY KEY (org_id, task_id, seq)
);

-- Event ids are numbered per org from event_counters, in the unit's last statements: the counter
-- row stays locked until the unit commits, so ids become visible in id order and a reader
-- resuming after id N (SSE Last-Event-ID) never misses an event committed later with a smaller id.
CREATE TABLE event_counters (
  org_id   text COLLATE "C" PRIMARY KEY,
  last_id  bigint NOT NULL
);

CREATE TABLE events (
  org_id   text COLLATE "C" NOT NULL,
  id       bigint NOT NULL,
  task_id  text COLLATE "C" NOT NULL,
  type     text NOT NULL,
  time     bigint NOT NULL,
  data     jsonb NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX events_time ON events (time);

CREATE TABLE idempotency_keys (
  org_id        text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  request_hash  text NOT NULL,
  task_ids      jsonb NOT NULL,
  created_at    bigint NOT NULL,
  PRIMARY KEY (org_id, key)
);
