/**
 * When a failed delivery is tried again (docs/webhooks.md, "Retries"): after 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h and 10 h, each ±20% (jitter, so endpoints coming back are not stormed),
 * that is 9 attempts over about 38 h (at least 30 h); then the delivery is failed. An endpoint
 * whose attempts have all failed for 5 days is disabled.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

export const DISABLE_AFTER_MS = 5 * 24 * HOUR;

/**
 * The pause before the next attempt once `failed` attempts have failed (1 after the first), or
 * null when the schedule is exhausted. `random` is uniform in [0, 1).
 */
export function retryDelay(schedule: readonly number[], failed: number, random: () => number): number | null {
  const base = schedule[failed - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
