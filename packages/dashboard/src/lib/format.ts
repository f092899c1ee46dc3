/** Times, durations and numbers, for people; the exact value stays in a title or a <time>. */
import type { TaskStatus } from '@tasklane/sdk';

const number = new Intl.NumberFormat('en');
export const formatNumber = (n: number): string => number.format(n);

/** Two units at most, a zero second unit left out: "45s", "1m 30s", "2h", "1d 14h". `coarse`: no seconds past a minute. */
export function formatDuration(ms: number, { coarse = false } = {}): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const two = (a: number, ua: string, b: number, ub: string) => (b === 0 ? `${a}${ua}` : `${a}${ua} ${b}${ub}`);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return coarse ? `${m}m` : two(m, 'm', s % 60, 's');
  const h = Math.floor(m / 60);
  if (h < 24) return two(h, 'h', m % 60, 'm');
  return two(Math.floor(h / 24), 'd', h % 24, 'h');
}

/** "3m ago", "in 20s", "1h 35m ago": relative to `now`, to the minute past the first minute. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Math.abs(ms) < 5_000) return 'just now';
  const d = formatDuration(ms, { coarse: true });
  return ms < 0 ? `${d} ago` : `in ${d}`;
}

const absolute = new Intl.DateTimeFormat('en', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
export const formatTime = (iso: string): string => absolute.format(new Date(iso));

const clock = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** The time of day for today, else the date and time. */
export function formatWhen(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  return d.toDateString() === now.toDateString() ? clock.format(d) : absolute.format(d);
}

export const STATUS_LABELS: Record<TaskStatus, string> = {
  backlog: 'Backlog',
  blocked: 'Blocked',
  queued: 'Queued',
  in_progress: 'In progress',
  needs_review: 'Needs review',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
};

export const ACTIVE_STATUSES: readonly TaskStatus[] = ['backlog', 'blocked', 'queued', 'in_progress', 'needs_review'];
export const isActive = (s: TaskStatus): boolean => ACTIVE_STATUSES.includes(s);

export const formatPercent = (p: number): string => `${Math.round(p * 100)}%`;

/** The default of a switch that covers every case: a compile error when one is added. */
export function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
