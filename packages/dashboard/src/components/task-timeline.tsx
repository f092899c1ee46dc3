/**
 * The task's story. With the event stream: its events as they were recorded (history first, then
 * live). When the server refuses it (401, 403, 404): what the record's timestamps tell, said plainly.
 */
import type { Task } from '@tasklane/sdk';
import type { TaskEvent } from '../live/events.js';
import { formatPercent, formatTime, formatWhen, STATUS_LABELS, unreachable } from '../lib/format.js';

function describe(e: TaskEvent): string {
  switch (e.type) {
    case 'task.created':
      return `Created as ${STATUS_LABELS[e.data.status].toLowerCase()}`;
    case 'task.status_changed':
      return `${STATUS_LABELS[e.data.from]} → ${STATUS_LABELS[e.data.to]}${e.data.cause ? ` (${e.data.cause})` : ''}`;
    case 'task.progress':
      return `Progress ${e.data.progress === null ? '—' : formatPercent(e.data.progress)}${
        e.data.progressMessage ? `: ${e.data.progressMessage}` : ''
      }`;
    case 'task.step':
      return `Step: ${e.data.step.message}`;
    case 'task.updated':
      return `Updated (${e.data.cause})`;
    case 'task.deleted':
      return 'Deleted';
    default:
      return unreachable(e);
  }
}

/** The latest events shown; a busy task's progress events would otherwise make the page heavy. */
const TIMELINE_MAX = 300;

export function TaskTimeline({ task, events, live }: { task: Task; events: TaskEvent[] | null; live: boolean }) {
  if (events !== null && live) {
    const shown = events.slice(-TIMELINE_MAX);
    return (
      <ol class="timeline">
        {events.length === 0 && <li class="muted">No events retained for this task.</li>}
        {events.length > shown.length && (
          <li class="muted">{events.length - shown.length} earlier events are not shown.</li>
        )}
        {shown.map((e) => (
          <li key={e.id} class={`timeline-item timeline-${e.type.replace('task.', '')}`}>
            <time dateTime={e.time} title={formatTime(e.time)}>
              {formatWhen(e.time)}
            </time>
            <span>{describe(e)}</span>
          </li>
        ))}
      </ol>
    );
  }
  const marks: Array<[string | null, string]> = [
    [task.createdAt, `Created by ${task.createdBy ?? 'unknown'}`],
    [task.queuedAt, 'Queued (last time)'],
    [task.startedAt, 'First claimed'],
    [task.blockedAt, `Blocked${task.blockedReason ? `: ${task.blockedReason}` : ''}`],
    [task.completedAt, `Ended as ${STATUS_LABELS[task.status].toLowerCase()}`],
    [task.archivedAt, 'Archived'],
  ];
  const shown = marks.filter((m): m is [string, string] => m[0] !== null).sort((a, b) => a[0].localeCompare(b[0]));
  return (
    <>
      <p class="muted small">From the task's timestamps: the server refused the task's event stream.</p>
      <ol class="timeline">
        {shown.map(([time, text]) => (
          <li key={text} class="timeline-item">
            <time dateTime={time} title={formatTime(time)}>
              {formatWhen(time)}
            </time>
            <span>{text}</span>
          </li>
        ))}
      </ol>
    </>
  );
}
