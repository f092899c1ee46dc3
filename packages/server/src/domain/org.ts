/** An org: the tenant that owns tasks, keys and projects; nothing crosses from one org to another. */
export interface Org {
  id: string;
  name: string;
  createdAt: number;
  /** What the org's new tasks take when neither the request nor the task's type says. */
  defaults: OrgDefaults;
}

/**
 * An org's defaults for its new tasks (SPEC §2 `maxRetries`, §7 `ttlSeconds`); null: the built-in
 * default (DEFAULT_MAX_RETRIES, DEFAULT_TTL_SECONDS in task.ts).
 */
export interface OrgDefaults {
  maxRetries: number | null;
  ttlSeconds: number | null;
}

/** A new org's defaults: none of its own, the built-in ones apply. */
export const NO_ORG_DEFAULTS: OrgDefaults = Object.freeze({ maxRetries: null, ttlSeconds: null });
