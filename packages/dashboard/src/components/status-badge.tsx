import type { TaskStatus } from '@tasklane/sdk';
import { STATUS_LABELS } from '../lib/format.js';

export function StatusBadge({ status, large }: { status: TaskStatus; large?: boolean }) {
  return (
    <span class={`badge badge-${status}${large ? ' badge-lg' : ''}`} data-status={status}>
      <span class="badge-dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}
