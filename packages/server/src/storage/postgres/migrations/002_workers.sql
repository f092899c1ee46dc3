-- Worker side: per-type settings (defaults, concurrency, rate limit) and the claim log that
-- rate limits and claims-per-minute are counted from.

CREATE TABLE task_types (
  org_id      text COLLATE "C" NOT NULL,
  type        text COLLATE "C" NOT NULL,
  config      jsonb NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (org_id, type)
);

CREATE TABLE claims (
  org_id   text COLLATE "C" NOT NULL,
  type     text COLLATE "C" NOT NULL,
  time     bigint NOT NULL,
  task_id  text COLLATE "C" NOT NULL
);
CREATE INDEX claims_by_type ON claims (org_id, type, time);
CREATE INDEX claims_by_time ON claims (time);

CREATE INDEX tasks_in_progress_type ON tasks (org_id, type) WHERE status = 'in_progress';
CREATE INDEX idempotency_age ON idempotency_keys (created_at);
