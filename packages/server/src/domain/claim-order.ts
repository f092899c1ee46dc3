import type { Task } from './task.js';

/** Claim order (SPEC §5): priority descending, then runAt/queuedAt, then id. */
export function claimOrder(a: Task, b: Task): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const ta = a.runAt ?? a.queuedAt ?? 0;
  const tb = b.runAt ?? b.queuedAt ?? 0;
  if (ta !== tb) return ta - tb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
