-- The length of the current lease (asked for at claim), which a heartbeat without extendMs renews.
-- It is the claim's, not the task's `leaseMs` (the task's default, which a claim must not change).
ALTER TABLE tasks ADD COLUMN lease_length_ms INTEGER;
