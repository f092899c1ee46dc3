-- The reaper finds old events and claim-log rows by time. Both tables are append-only, in time
-- order, so a BRIN index (one summary per range of pages) finds them as well as a b-tree did,
-- while a write no longer pays a b-tree insert for each of those rows: three events and a claim
-- per task that runs.
DROP INDEX events_time;
CREATE INDEX events_time ON events USING brin (time);
DROP INDEX claims_by_time;
CREATE INDEX claims_by_time ON claims USING brin (time);
