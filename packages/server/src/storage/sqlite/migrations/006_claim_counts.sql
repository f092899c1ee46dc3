-- The claim log keeps one row per claim unit and type, with how many tasks it took, instead of one
-- row per task: rate limits and claims per minute add up `count`, and a claim of 100 tasks writes
-- one row (and its two index entries) instead of 100. Claims of the old log are carried over as
-- counts of the same times.
CREATE TABLE claim_counts (
  org_id  TEXT NOT NULL,
  type    TEXT NOT NULL,
  time    INTEGER NOT NULL,
  count   INTEGER NOT NULL
);
INSERT INTO claim_counts (org_id, type, time, count)
  SELECT org_id, type, time, count(*) FROM claims GROUP BY org_id, type, time ORDER BY time;
DROP TABLE claims;
ALTER TABLE claim_counts RENAME TO claims;
CREATE INDEX claims_by_type ON claims (org_id, type, time);
CREATE INDEX claims_by_time ON claims (time);
-- Dropping the old table dropped its planner statistics (003): the new indexes get theirs.
DELETE FROM sqlite_stat1 WHERE tbl IN ('claims', 'claim_counts');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
  ('claims', 'claims_by_type', '100000 10000 200 2'),
  ('claims', 'claims_by_time', '100000 2');
ANALYZE sqlite_schema;
