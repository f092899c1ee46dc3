-- Event streams (GET /v1/events, GET /v1/tasks/{id}/events) filter by the task's type, list and
-- project: the event row carries them, so a stream never joins tasks and a deleted task's events
-- still filter right. Rows written before this migration have NULLs there.
ALTER TABLE events ADD COLUMN task_type text COLLATE "C";
ALTER TABLE events ADD COLUMN list_id text COLLATE "C";
ALTER TABLE events ADD COLUMN project_id text COLLATE "C";
-- One task's events in order: the per-task stream's replay.
CREATE INDEX events_task ON events (org_id, task_id, id);
-- The highest event id the reaper has deleted, per org: a stream resuming at or below it has
-- missed events and is told so (`event: reset`).
CREATE TABLE event_horizons (
  org_id          text COLLATE "C" PRIMARY KEY,
  reaped_through  bigint NOT NULL
);
