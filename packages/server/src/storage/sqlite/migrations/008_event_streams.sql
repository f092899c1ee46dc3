-- Event streams (GET /v1/events, GET /v1/tasks/{id}/events) filter by the task's type, list and
-- project: the event row carries them, so a stream never joins tasks and a deleted task's events
-- still filter right.
ALTER TABLE events ADD COLUMN task_type TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN list_id TEXT;
ALTER TABLE events ADD COLUMN project_id TEXT;
-- Events written before this migration (at most a day of them: the reaper keeps 24 h) take them
-- from their task, so a filtered stream resuming across the upgrade misses none of them. Those of
-- tasks deleted since keep task_type '' (unknown), list and project NULL. Before the index below:
-- the rows are written once, not once more for it.
UPDATE events SET task_type = t.type, list_id = t.list_id, project_id = t.project_id
  FROM tasks AS t WHERE t.org_id = events.org_id AND t.id = events.task_id;
-- One task's events in order: the per-task stream's replay. Its planner statistics describe the
-- large deployment of 003_planner_stats.sql (a task has a handful of events), so listEvents of one
-- task walks this index and an org's stream walks events_org.
CREATE INDEX events_task ON events (org_id, task_id, id);
DELETE FROM sqlite_stat1 WHERE idx = 'events_task';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('events', 'events_task', '10000000 1000000 5 1');
ANALYZE sqlite_schema;
-- The highest event id the reaper has deleted, per org: a stream resuming below it has missed
-- events and is told so (`event: reset`).
CREATE TABLE event_horizons (
  org_id          TEXT PRIMARY KEY,
  reaped_through  INTEGER NOT NULL
) WITHOUT ROWID;
