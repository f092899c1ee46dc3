-- The claim log keeps one row per claim unit and type, with how many tasks it took, instead of one
-- row per task: rate limits and claims per minute add up `count`, and a claim of 100 tasks writes
-- one row (and its index entries) instead of 100. Claims of the old log are carried over as counts
-- of the same times.
CREATE TABLE claim_counts (
  org_id  text COLLATE "C" NOT NULL,
  type    text COLLATE "C" NOT NULL,
  time    bigint NOT NULL,
  count   integer NOT NULL
);
INSERT INTO claim_counts (org_id, type, time, count)
  SELECT org_id, type, time, count(*) FROM claims GROUP BY org_id, type, time ORDER BY time;
DROP TABLE claims;
ALTER TABLE claim_counts RENAME TO claims;
CREATE INDEX claims_by_type ON claims (org_id, type, time);
CREATE INDEX claims_by_time ON claims USING brin (time);
