-- Event streams (GET /v1/events, GET /v1/tasks/{id}/events) filter by the task's type, list and
-- project: the event row carries them, so a stream never joins tasks and a deleted task's events
-- still filter right.
ALTER TABLE events ADD COLUMN task_type text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN list_id text COLLATE "C";
ALTER TABLE events ADD COLUMN project_id text COLLATE "C";
-- Events written before this migration (at most a day of them: the reaper keeps 24 h) take them
-- from their task, so a filtered stream resuming across the upgrade misses none of them. Those of
-- tasks deleted since keep task_type '' (unknown), list and project NULL. Before the index below:
-- the rows are written once, not once more for it.
UPDATE events AS e SET task_type = t.type, list_id = t.list_id, project_id = t.project_id
  FROM tasks AS t WHERE t.org_id = e.org_id AND t.id = e.task_id;
-- From now on every writer names the type: a statement that forgets it fails.
ALTER TABLE events ALTER COLUMN task_type DROP DEFAULT;
-- One task's events in order: the per-task stream's replay.
CREATE INDEX events_task ON events (org_id, task_id, id);
-- The highest event id the reaper has deleted, per org: a stream resuming below it has missed
-- events and is told so (`event: reset`).
CREATE TABLE event_horizons (
  org_id          text COLLATE "C" PRIMARY KEY,
  reaped_through  bigint NOT NULL
);
