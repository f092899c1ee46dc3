/**
 * One task at its own address (`/tasks/{id or OPS-42}`): status, progress, steps and timeline as
 * they stream in, input/result/error, attempts and lease, dependencies and its list, and what the
 * key may do to it.
 */
import { TasklaneApiError, type Task } from '@tasklane/sdk';
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CopyButton } from '../components/copy-button.js';
import { JsonView } from '../components/json-view.js';
import { ProgressBar } from '../components/progress-bar.js';
import { RelativeTime } from '../components/relative-time.js';
import { StatusBadge } from '../components/status-badge.js';
import { TaskActions } from '../components/task-actions.js';
import { ListGraph, TaskDependencies } from '../components/task-dependencies.js';
import { TaskTimeline } from '../components/task-timeline.js';
import { WebhookDeliveries } from '../components/webhook-deliveries.js';
import type { TaskEvent } from '../live/events.js';
import { useReportLiveState } from '../live/live-status.js';
import { useEventStream } from '../live/use-event-stream.js';
import { applyEvent } from '../lib/live-tasks.js';
import { formatDuration, formatNumber, formatTime, formatWhen, isActive } from '../lib/format.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

/** Events kept in memory for the timeline, and steps shown before "show earlier". */
const EVENTS_KEPT = 1000;
const STEPS_SHOWN = 200;

export function TaskPage({ id }: { id: string }) {
  const { client, key, who } = useSession();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [events, setEvents] = useState<TaskEvent[]>([]);
  const [deleted, setDeleted] = useState(false);
  const [allSteps, setAllSteps] = useState(false);
  const current = useRef<Task | null>(null);
  current.current = task;

  const reload = () => {
    client.tasks.get(id).then(
      (t) => {
        setTask((old) => (old !== null && old.id === t.id && old.version > t.version ? old : t));
        setError(null);
      },
      (err: unknown) =>
        setError(err instanceof TasklaneApiError && err.status === 404 ? 'notfound' : describeError(err)),
    );
  };
  useEffect(() => {
    setTask(null);
    setEvents([]);
    setDeleted(false);
    reload();
  }, [id, client]);

  // Events name what changed; the record is read again (at most every 250 ms) for the rest.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reloadSoon = () => {
    pending.current ??= setTimeout(() => {
      pending.current = null;
      reload();
    }, 250);
  };
  useEffect(() => () => clearTimeout(pending.current ?? undefined), []);

  const taskId = task?.id ?? null;
  const live = useEventStream(taskId === null ? null : `/v1/tasks/${encodeURIComponent(taskId)}/events`, key, {
    onEvent(e) {
      // The page keeps the latest EVENTS_KEPT; the timeline shows fewer.
      setEvents((list) => (list.some((x) => x.id === e.id) ? list : [...list.slice(-(EVENTS_KEPT - 1)), e]));
      if (e.type === 'task.deleted') {
        setDeleted(true);
        return;
      }
      const t = current.current;
      if (t !== null && e.data.version > t.version) {
        setTask((old) => (old === null ? old : applyEvent(old, e)));
        reloadSoon();
      }
    },
    onOpen(resumed) {
      if (resumed) reloadSoon();
    },
    onReset() {
      setEvents([]);
      reload();
    },
    reconnectOnEnd: () => current.current === null || isActive(current.current.status),
  });
  useReportLiveState(taskId === null ? null : live);

  if (error === 'notfound') {
    return (
      <section class="empty-page">
        <h1>No task {id}</h1>
        <p>
          It does not exist in this org, or it was deleted. <a href="/">See all tasks</a>.
        </p>
      </section>
    );
  }
  if (task === null) {
    return (
      <section aria-busy="true" class="stack">
        <p class="muted">{error === null ? 'Loading…' : `Could not load the task: ${error}`}</p>
      </section>
    );
  }

  // One part a line, by identifier when it has one: each line short enough for the card.
  const curl = [
    'curl -s',
    `  ${location.origin}/v1/tasks/${task.identifier ?? task.id}`,
    '  -H "Authorization: Bearer $TASKLANE_KEY"',
  ].join(' \\\n');
  const name = task.identifier ?? task.id;
  const streamOk = live !== 'unavailable';
  return (
    <article class="stack" aria-labelledby="task-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/">Tasks</a>
        <span aria-hidden="true">/</span>
        <span class="mono" aria-current="page">
          {name}
        </span>
      </nav>
      {deleted && (
        <p class="banner banner-warn" role="status">
          This task was deleted. What is shown is its last state.
        </p>
      )}
      <header class="task-head">
        <div class="task-head-main">
          <div class="task-head-line">
            <StatusBadge status={task.status} large />
            {task.archivedAt !== null && <span class="tag">archived</span>}
            <span class="mono muted">{task.type}</span>
          </div>
          <h1 id="task-title">{task.title}</h1>
          <p class="task-ids">
            {task.identifier !== null && <span class="mono strong">{task.identifier}</span>}
            <span class="mono muted">{task.id}</span>
          </p>
        </div>
        {can(who, 'tasks:write') && <TaskActions task={task} onChanged={(t) => setTask(t)} />}
      </header>

      {(task.progress !== null || task.progressMessage !== null) && (
        <section class="card progress-card" aria-label="Progress">
          <ProgressBar value={task.progress} status={task.status} label={`Progress of ${name}`} />
          {task.progressMessage !== null && <p class="progress-message">{task.progressMessage}</p>}
        </section>
      )}
      {task.error !== null && (
        <section class="card card-error" aria-labelledby="error-title">
          <h2 id="error-title">
            {task.error.code} <span class="muted small">{task.error.retryable ? 'retryable' : 'not retryable'}</span>
          </h2>
          <p>{task.error.message}</p>
        </section>
      )}

      <div class="task-grid">
        <div class="stack">
          {task.description !== null && (
            <section class="card" aria-labelledby="desc-title">
              <h2 id="desc-title">Description</h2>
              <p class="prewrap">{task.description}</p>
            </section>
          )}
          <section class="card" aria-labelledby="steps-title">
            <h2 id="steps-title">
              Steps <span class="count">{formatNumber(task.steps.length)}</span>
            </h2>
            {task.steps.length === 0 ? (
              <p class="muted">No steps reported yet.</p>
            ) : (
              <ol class="steps">
                {task.steps.length > STEPS_SHOWN && !allSteps && (
                  <li class="steps-more">
                    <button type="button" class="btn btn-small" onClick={() => setAllSteps(true)}>
                      Show the {formatNumber(task.steps.length - STEPS_SHOWN)} earlier steps
                    </button>
                  </li>
                )}
                {(allSteps ? task.steps : task.steps.slice(-STEPS_SHOWN)).map((s, i) => (
                  <li key={`${s.time}-${i}`}>
                    <time dateTime={s.time} title={formatTime(s.time)}>
                      {formatWhen(s.time)}
                    </time>
                    <span class="step-message">{s.message}</span>
                    {s.data !== undefined && <JsonView title="data" value={s.data} />}
                  </li>
                ))}
              </ol>
            )}
          </section>
          <section class="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            <TaskTimeline task={task} events={streamOk ? events : null} live={streamOk} />
          </section>
          <section class="card" aria-labelledby="io-title">
            <h2 id="io-title">Input, result and error</h2>
            <JsonView title="Input" value={task.input} />
            <JsonView title="Result" value={task.result} open={task.status === 'completed'} />
            <JsonView title="Error" value={task.error} />
          </section>
        </div>

        <aside class="stack" aria-label="Details">
          <section class="card" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl class="facts">
              <dt>Attempt</dt>
              <dd>
                {task.attempt} · {task.retryCount} of {task.maxRetries} retries used
              </dd>
              <dt>Priority</dt>
              <dd>{task.priority}</dd>
              <dt>Lease</dt>
              <dd>
                {task.lease === null ? (
                  <span class="muted">not held</span>
                ) : (
                  <>
                    {task.lease.workerId}, expires <RelativeTime iso={task.lease.expiresAt} />
                  </>
                )}
              </dd>
              <dt>Assignee</dt>
              <dd>{task.assignee ?? <span class="muted">—</span>}</dd>
              <dt>Created by</dt>
              <dd>{task.createdBy ?? <span class="muted">—</span>}</dd>
              <dt>Created</dt>
              <dd>
                <RelativeTime iso={task.createdAt} />
              </dd>
              <dt>Started</dt>
              <dd>
                <RelativeTime iso={task.startedAt} />
              </dd>
              <dt>Ended</dt>
              <dd>
                <RelativeTime iso={task.completedAt} />
              </dd>
              {task.runAt !== null && (
                <>
                  <dt>Runs at</dt>
                  <dd>
                    <RelativeTime iso={task.runAt} />
                  </dd>
                </>
              )}
              {task.timeoutMs !== null && (
                <>
                  <dt>Timeout</dt>
                  <dd>{formatDuration(task.timeoutMs)}</dd>
                </>
              )}
              <dt>Polled</dt>
              <dd>{task.pollCount}×</dd>
              <dt>Version</dt>
              <dd>{task.version}</dd>
            </dl>
          </section>
          <section class="card" aria-labelledby="labels-title">
            <h2 id="labels-title">Labels and metadata</h2>
            {task.labels.length === 0 ? (
              <p class="muted">No labels.</p>
            ) : (
              <ul class="tags">
                {task.labels.map((l) => (
                  <li class="tag" key={l}>
                    {l}
                  </li>
                ))}
              </ul>
            )}
            {Object.keys(task.metadata).length === 0 ? (
              <p class="muted">No metadata.</p>
            ) : (
              <dl class="facts facts-meta">
                {Object.entries(task.metadata).map(([k, v]) => (
                  <Fragment key={k}>
                    <dt class="mono">{k}</dt>
                    <dd class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                  </Fragment>
                ))}
              </dl>
            )}
          </section>
          <section class="card" aria-labelledby="deps-title">
            <h2 id="deps-title">Dependencies</h2>
            <TaskDependencies task={task} />
            {task.listId !== null && <ListGraph listId={task.listId} taskId={task.id} />}
          </section>
          <WebhookDeliveries taskId={task.id} version={task.version} />
          <section class="card" aria-labelledby="curl-title">
            <h2 id="curl-title">Fetch it from a shell</h2>
            <pre class="curl" tabIndex={0} aria-label="curl command">
              {curl}
            </pre>
            <div class="row-end">
              <CopyButton text={curl} label="Copy the curl command" />
            </div>
          </section>
        </aside>
      </div>
    </article>
  );
}
