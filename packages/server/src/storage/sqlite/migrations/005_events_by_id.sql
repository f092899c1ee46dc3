-- Events are appended in time order, so the reaper walks them by id; the time index only cost
-- every write an extra b-tree insert.
DROP INDEX events_time;
DELETE FROM sqlite_stat1 WHERE idx = 'events_time';
ANALYZE sqlite_schema;
