import { formatRelative, formatTime } from '../lib/format.js';

export function RelativeTime({ iso }: { iso: string | null }) {
  if (iso === null) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {formatRelative(iso)}
    </time>
  );
}
