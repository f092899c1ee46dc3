/** The rows of the task list. Every value from a task is rendered as text. */
import type { Task } from '@tasklane/sdk';
import { ProgressBar } from './progress-bar.js';
import { RelativeTime } from './relative-time.js';
import { StatusBadge } from './status-badge.js';
import type { Selection } from './bulk-bar.js';

export function TaskTable({
  tasks,
  selectable,
  selection,
  onSelection,
  filtered,
}: {
  tasks: Task[] | null;
  selectable: boolean;
  selection: Selection;
  onSelection: (s: Selection) => void;
  filtered: boolean;
}) {
  const rows = tasks ?? [];
  const allOnPage = rows.length > 0 && rows.every((t) => selection.ids.has(t.id));
  const togglePage = () => {
    const ids = new Set(selection.ids);
    for (const t of rows) {
      if (allOnPage) ids.delete(t.id);
      else ids.add(t.id);
    }
    onSelection({ ids, allMatching: false });
  };
  const toggle = (id: string) => {
    const ids = new Set(selection.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    onSelection({ ids, allMatching: false });
  };
  return (
    <div class="table-wrap">
      <table class="tasks" aria-busy={tasks === null} aria-label="Tasks">
        <thead>
          <tr>
            {selectable && (
              <th scope="col" class="col-check">
                <input
                  type="checkbox"
                  aria-label="Select every task on this page"
                  checked={allOnPage || selection.allMatching}
                  disabled={rows.length === 0}
                  onChange={togglePage}
                />
              </th>
            )}
            <th scope="col">Task</th>
            <th scope="col">Status</th>
            <th scope="col" class="col-progress">
              Progress
            </th>
            <th scope="col" class="col-num">
              Attempt
            </th>
            <th scope="col">Assignee</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {tasks === null &&
            Array.from({ length: 6 }, (_, i) => (
              <tr key={`skeleton-${i}`} class="skeleton" aria-hidden="true">
                <td colSpan={selectable ? 8 : 7}>
                  <span class="skeleton-bar" />
                </td>
              </tr>
            ))}
          {tasks !== null && rows.length === 0 && (
            <tr>
              <td colSpan={selectable ? 8 : 7} class="empty">
                {filtered ? 'No task matches these filters.' : 'No tasks yet. Create one with POST /v1/tasks.'}
              </td>
            </tr>
          )}
          {rows.map((t) => {
            const name = t.identifier ?? t.id.slice(0, 8);
            const selected = selection.allMatching || selection.ids.has(t.id);
            return (
              <tr key={t.id} class={selected ? 'is-selected' : undefined} data-task-id={t.id}>
                {selectable && (
                  <td class="col-check">
                    <input
                      type="checkbox"
                      aria-label={`Select ${name}`}
                      checked={selected}
                      disabled={selection.allMatching}
                      onChange={() => toggle(t.id)}
                    />
                  </td>
                )}
                <td class="col-task">
                  <a href={`/tasks/${t.id}`} class="task-title">
                    {t.title}
                  </a>
                  <span class="task-meta">
                    <span class="mono">{name}</span>
                    <span aria-hidden="true"> · </span>
                    <span>{t.type}</span>
                    {t.archivedAt !== null && <span class="tag">archived</span>}
                    {t.labels.slice(0, 3).map((l) => (
                      <span class="tag" key={l}>
                        {l}
                      </span>
                    ))}
                  </span>
                </td>
                <td>
                  <StatusBadge status={t.status} />
                </td>
                <td class="col-progress">
                  <ProgressBar value={t.progress} status={t.status} label={`Progress of ${name}`} compact />
                </td>
                <td class="col-num">
                  {t.attempt}
                  {t.retryCount > 0 && <span class="muted"> ({t.retryCount} retried)</span>}
                </td>
                <td>{t.assignee ?? <span class="muted">—</span>}</td>
                <td>
                  <RelativeTime iso={t.createdAt} />
                </td>
                <td>
                  <RelativeTime iso={t.updatedAt} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
