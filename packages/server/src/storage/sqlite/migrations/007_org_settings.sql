-- An org's defaults (GET/PATCH /v1/org): a task takes maxRetries and ttlSeconds from its request,
-- else from its type's defaults, else from these, else from the built-in defaults (NULL here).
ALTER TABLE orgs ADD COLUMN default_max_retries INTEGER;
ALTER TABLE orgs ADD COLUMN default_ttl_seconds INTEGER;
