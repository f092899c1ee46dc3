import type { TaskStatus } from '@tasklane/sdk';
import { formatPercent } from '../lib/format.js';

/** A task's progress (0..1), or nothing when it has reported none; coloured by the task's status. */
export function ProgressBar({
  value,
  label,
  status,
  compact,
}: {
  value: number | null;
  label: string;
  status: TaskStatus;
  compact?: boolean;
}) {
  if (value === null) return compact ? <span class="muted">—</span> : null;
  const pct = Math.max(0, Math.min(1, value));
  return (
    <div class={`progress progress-${status}${compact ? ' progress-compact' : ''}`}>
      <progress max={1} value={pct} aria-label={label}>
        {formatPercent(pct)}
      </progress>
      <span class="progress-value">{formatPercent(pct)}</span>
    </div>
  );
}
