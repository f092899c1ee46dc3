-- Representative planner statistics (SQLite's "manual control of query plans" through sqlite_stat1).
-- Without statistics, SQLite cannot tell that `org_id = ?` matches a whole org while
-- `org_id = ? AND list_id = ?` matches a handful, and may scan an org's every task for a filtered
-- list. These rows describe a large deployment (about 1M tasks over 10 orgs), so plans are the
-- ones that stay good as the data grows, on day one as on day 1,000. A later ANALYZE replaces them
-- with measured figures.
ANALYZE;
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
  ('tasks', 'tasks', '1000000 100000 1'),
  ('tasks', 'tasks_status', '1000000 100000 20000 1'),
  ('tasks', 'tasks_list', '500000 50000 20 1'),
  ('tasks', 'tasks_project', '500000 50000 500 1'),
  ('tasks', 'tasks_type', '1000000 100000 2000 1'),
  ('tasks', 'tasks_claimable', '50000 5000 500 200 2 1'),
  ('tasks', 'tasks_in_progress_type', '10000 1000 100'),
  ('tasks', 'tasks_leases', '10000 2'),
  ('tasks', 'tasks_timeouts', '5000 2'),
  ('tasks', 'tasks_expiry', '800000 5'),
  ('tasks', 'tasks_identifier', '500000 50000 1'),
  ('task_deps', 'task_deps', '200000 20000 3 1'),
  ('steps', 'steps', '5000000 500000 10 1'),
  ('events', 'events_org', '10000000 1000000 1'),
  ('events', 'events_time', '10000000 10'),
  ('claims', 'claims_by_type', '1000000 100000 2000 2'),
  ('claims', 'claims_by_time', '1000000 2'),
  ('idempotency_keys', 'idempotency_keys', '100000 10000 1'),
  ('idempotency_keys', 'idempotency_age', '100000 2'),
  ('api_keys', 'api_keys_hash', '1000 1'),
  ('projects', 'projects_key', '1000 100 1');
ANALYZE sqlite_schema;
