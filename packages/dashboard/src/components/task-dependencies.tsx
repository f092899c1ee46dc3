/** What the task waits for (each a link), and for a list, the list's graph as nodes and edges. */
import type { ListView, Task } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../lib/session-context.js';
import { StatusBadge } from './status-badge.js';

/** Dependencies are read one by one: at most this many, the rest shown by id. */
const DEPS_READ = 20;

export function TaskDependencies({ task }: { task: Task }) {
  const { client } = useSession();
  const [known, setKnown] = useState<Map<string, Task>>(new Map());
  const key = task.dependsOn.join(',');
  useEffect(() => {
    let live = true;
    Promise.all(task.dependsOn.slice(0, DEPS_READ).map((id) => client.tasks.get(id).catch(() => null))).then((list) => {
      if (live) setKnown(new Map(list.filter((t): t is Task => t !== null).map((t) => [t.id, t])));
    });
    return () => {
      live = false;
    };
  }, [client, key]);
  if (task.dependsOn.length === 0) return <p class="muted">Depends on no task.</p>;
  const waiting = new Set(task.blockedBy);
  return (
    <ul class="nodes">
      {task.dependsOn.map((id) => {
        const dep = known.get(id);
        return (
          <li key={id}>
            {dep === undefined ? (
              <span class="tag">{waiting.has(id) ? 'waiting' : 'settled'}</span>
            ) : (
              <StatusBadge status={dep.status} />
            )}
            <a href={`/tasks/${id}`} class={dep?.identifier ? 'mono' : 'mono small'}>
              {dep?.identifier ?? id}
            </a>
            {dep !== undefined && <span class="node-title">{dep.title}</span>}
          </li>
        );
      })}
    </ul>
  );
}

export function ListGraph({ listId, taskId }: { listId: string; taskId: string }) {
  const { client } = useSession();
  const [view, setView] = useState<ListView | null>(null);
  const [error, setError] = useState(false);
  useEffect(() => {
    client.insights.list(listId).then(setView, () => setError(true));
  }, [client, listId]);
  if (error) return <p class="muted">The list could not be read.</p>;
  if (view === null) return <p class="muted">Loading the list…</p>;
  const label = new Map(view.nodes.map((n) => [n.id, n.identifier ?? n.title]));
  return (
    <div class="graph">
      <h3 class="subhead">
        List <span class="mono">{listId}</span>
        <span class="muted">
          {' '}
          · {view.total} task{view.total === 1 ? '' : 's'}
          {view.truncated ? `, the first ${view.nodes.length} shown` : ''}
        </span>
      </h3>
      <ul class="nodes graph-nodes" aria-label="Tasks of the list">
        {view.nodes.map((n) => (
          <li key={n.id} class={n.id === taskId ? 'is-current' : undefined}>
            <StatusBadge status={n.status as Task['status']} />
            <a href={`/tasks/${n.id}`} class="mono" aria-current={n.id === taskId ? 'page' : undefined}>
              {n.identifier ?? n.id.slice(0, 8)}
            </a>
            <span class="node-title">{n.title}</span>
          </li>
        ))}
      </ul>
      {view.edges.length > 0 && (
        <>
          <h4>Dependency → dependent</h4>
          <ul class="edges" aria-label="Dependencies within the list">
            {view.edges.map((e) => (
              <li key={`${e.from}-${e.to}`}>
                <a href={`/tasks/${e.from}`} class="mono">
                  {label.get(e.from) ?? e.from}
                </a>
                <span class="edge-arrow" aria-label="before">
                  →
                </span>
                <a href={`/tasks/${e.to}`} class="mono">
                  {label.get(e.to) ?? e.to}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
