/** Every type the org has tasks or settings for: counts by status, limits. */
import type { Stats, TypeSettings } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { formatDuration, formatNumber } from '../lib/format.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

const COLUMNS = ['queued', 'in_progress', 'needs_review', 'blocked', 'failed', 'completed'] as const;
const HEADS: Record<(typeof COLUMNS)[number], string> = {
  queued: 'Queued',
  in_progress: 'In progress',
  needs_review: 'Review',
  blocked: 'Blocked',
  failed: 'Failed',
  completed: 'Completed',
};

export function TypesPage() {
  const { client } = useSession();
  const [stats, setStats] = useState<Stats | null>(null);
  const [settings, setSettings] = useState<Map<string, TypeSettings>>(new Map());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client.insights.stats().then(setStats, (e: unknown) => setError(describeError(e)));
    client.types.list().then(
      (list) => setSettings(new Map(list.map((t) => [t.type, t]))),
      () => undefined,
    );
  }, [client]);
  const names = [...new Set([...Object.keys(stats?.byType ?? {}), ...settings.keys()])].sort();
  return (
    <section class="stack" aria-labelledby="types-title">
      <div class="page-head">
        <div>
          <h1 id="types-title">Types and queues</h1>
          <p class="muted page-sub">
            {stats === null
              ? '\u00a0'
              : `${formatNumber(stats.claimsPerMinute)} claims in the last minute · oldest claimable task waiting ${
                  stats.oldestQueuedAgeMs === null ? '—' : formatDuration(stats.oldestQueuedAgeMs)
                }`}
          </p>
        </div>
      </div>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="tasks" aria-label="Types" aria-busy={stats === null}>
          <thead>
            <tr>
              <th scope="col">Type</th>
              {COLUMNS.map((c) => (
                <th scope="col" class="col-num" key={c}>
                  {HEADS[c]}
                </th>
              ))}
              <th scope="col">Concurrency</th>
              <th scope="col">Rate limit</th>
            </tr>
          </thead>
          <tbody>
            {stats !== null && names.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 3} class="empty">
                  No types yet: they appear with their first task.
                </td>
              </tr>
            )}
            {names.map((name) => {
              const counts = stats?.byType[name];
              const s = settings.get(name);
              return (
                <tr key={name}>
                  <td>
                    <a href={`/types/${encodeURIComponent(name)}`} class="task-title mono">
                      {name}
                    </a>
                  </td>
                  {COLUMNS.map((c) => (
                    <td class="col-num" key={c}>
                      {formatNumber(counts?.[c] ?? 0)}
                    </td>
                  ))}
                  <td>{s?.concurrency ?? <span class="muted">no limit</span>}</td>
                  <td>
                    {s?.rateLimit == null ? (
                      <span class="muted">no limit</span>
                    ) : (
                      `${formatNumber(s.rateLimit.count)} per ${formatDuration(s.rateLimit.perMs)}`
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
