import type { RetryPolicy } from './task.js';

/**
 * Delay before retry number `n` (1-based), SPEC §5: fixed `delayMs`; linear `delayMs·n`;
 * exponential `delayMs·2^(n-1)`; capped by `maxDelayMs`; `full` jitter draws uniformly in [0, delay].
 * `random` returns a number in [0, 1); it is passed in so tests are deterministic.
 */
export function retryDelayMs(policy: RetryPolicy, n: number, random: () => number): number {
  const attempt = Math.max(1, Math.floor(n));
  let delay: number;
  switch (policy.strategy) {
    case 'fixed':
      delay = policy.delayMs;
      break;
    case 'linear':
      delay = policy.delayMs * attempt;
      break;
    case 'exponential':
      // 2^(n-1) overflows to Infinity for large n; the cap below bounds it.
      delay = policy.delayMs * 2 ** Math.min(attempt - 1, 1023);
      break;
    default: {
      const unknown: never = policy.strategy;
      throw new Error(`unknown retry strategy ${String(unknown)}`);
    }
  }
  delay = Math.min(delay, policy.maxDelayMs);
  if (policy.jitter === 'full') delay = Math.floor(random() * (delay + 1));
  return Math.max(0, Math.floor(delay));
}
