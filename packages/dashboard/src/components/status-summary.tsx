/** Counts by status (GET /v1/stats, kept current by events); each one filters the list to it. */
import type { Stats, TaskStatus } from '@tasklane/sdk';
import { STATUSES } from '../lib/wire.js';
import type { ListView } from '../lib/filters.js';
import { formatNumber, STATUS_LABELS } from '../lib/format.js';

export function StatusSummary({
  stats,
  view,
  onChange,
}: {
  stats: Stats | null;
  view: ListView;
  onChange: (v: ListView) => void;
}) {
  const toggle = (s: TaskStatus) => {
    const on = view.status.includes(s);
    onChange({ ...view, status: on ? view.status.filter((x) => x !== s) : [...view.status, s] });
  };
  return (
    <div class="summary" role="group" aria-label="Filter by status">
      {STATUSES.map((s) => {
        const on = view.status.includes(s);
        return (
          <button
            type="button"
            key={s}
            class={`summary-item summary-${s}${on ? ' is-on' : ''}`}
            aria-pressed={on}
            onClick={() => toggle(s)}
          >
            <span class="summary-label">
              <span class={`badge-dot dot-${s}`} aria-hidden="true" />
              {STATUS_LABELS[s]}
            </span>
            <span class="summary-count">{stats === null ? '–' : formatNumber(stats.byStatus[s] ?? 0)}</span>
          </button>
        );
      })}
    </div>
  );
}
