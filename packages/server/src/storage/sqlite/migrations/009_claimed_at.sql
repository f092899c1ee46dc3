-- When the latest attempt was claimed: the start of claim-to-finish durations (metrics). started_at
-- keeps the first claim's time. Tasks in progress across the upgrade have none (NULL) until their
-- next claim; their attempt is simply not measured.
ALTER TABLE tasks ADD COLUMN claimed_at INTEGER;
