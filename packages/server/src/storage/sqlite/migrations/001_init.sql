-- Tasklane schema, SQLite. Every table carries org_id leading its primary key or main index.
-- Times are epoch milliseconds; JSON columns hold JSON text.

CREATE TABLE orgs (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  org_id      TEXT NOT NULL REFERENCES orgs(id),
  id          TEXT NOT NULL,
  name        TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  hash        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER,
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);

CREATE TABLE projects (
  org_id       TEXT NOT NULL,
  id           TEXT NOT NULL,
  key          TEXT NOT NULL,
  name         TEXT NOT NULL,
  next_number  INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX projects_key ON projects (org_id, key);

CREATE TABLE tasks (
  org_id                 TEXT NOT NULL,
  id                     TEXT NOT NULL,
  project_id             TEXT,
  identifier             TEXT,
  list_id                TEXT,
  type                   TEXT NOT NULL,
  title                  TEXT NOT NULL,
  description            TEXT,
  input                  TEXT NOT NULL,
  status                 TEXT NOT NULL,
  priority               INTEGER NOT NULL,
  progress               REAL,
  progress_message       TEXT,
  result                 TEXT NOT NULL,
  error                  TEXT,
  attempt                INTEGER NOT NULL,
  retry_count            INTEGER NOT NULL,
  max_retries            INTEGER NOT NULL,
  retry_policy           TEXT NOT NULL,
  lease_ms               INTEGER,
  timeout_ms             INTEGER,
  run_at                 INTEGER,
  depends_on             TEXT NOT NULL,
  blocked_by             TEXT NOT NULL,
  blocked_reason         TEXT,
  block_kind             TEXT,
  on_dependency_failure  TEXT NOT NULL,
  assignee               TEXT,
  created_by             TEXT,
  poll_count             INTEGER NOT NULL,
  requires_review        INTEGER NOT NULL,
  metadata               TEXT NOT NULL,
  labels                 TEXT NOT NULL,
  idempotency_key        TEXT,
  ttl_seconds            INTEGER NOT NULL,
  version                INTEGER NOT NULL,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  queued_at              INTEGER,
  started_at             INTEGER,
  completed_at           INTEGER,
  blocked_at             INTEGER,
  archived_at            INTEGER,
  expires_at             INTEGER,
  timeout_at             INTEGER,
  lease_id               TEXT,
  lease_worker_id        TEXT,
  lease_expires_at       INTEGER,
  PRIMARY KEY (org_id, id)
) WITHOUT ROWID;

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
  org_id         TEXT NOT NULL,
  depends_on_id  TEXT NOT NULL,
  task_id        TEXT NOT NULL,
  PRIMARY KEY (org_id, depends_on_id, task_id)
) WITHOUT ROWID;

CREATE TABLE steps (
  org_id   TEXT NOT NULL,
  task_id  TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  time     INTEGER NOT NULL,
  message  TEXT NOT NULL,
  data     TEXT,
  PRIMARY KEY (org_id, task_id, seq)
) WITHOUT ROWID;

CREATE TABLE events (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id   TEXT NOT NULL,
  task_id  TEXT NOT NULL,
  type     TEXT NOT NULL,
  time     INTEGER NOT NULL,
  data     TEXT NOT NULL
);
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX events_time ON events (time);

CREATE TABLE idempotency_keys (
  org_id        TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  task_ids      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
