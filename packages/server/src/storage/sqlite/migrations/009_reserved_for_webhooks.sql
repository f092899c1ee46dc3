-- Placeholder for the webhooks migration of the same number, which replaces this file when the
-- branches meet. Applies nothing.
SELECT 1;
