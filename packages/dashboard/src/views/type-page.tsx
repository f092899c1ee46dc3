/** One type: counts by status, how long the oldest queued task waits, throughput, limits (editable with admin). */
import type { Stats, Task, Throughput, TypeSettings } from '@tasklane/sdk';
import { STATUSES } from '../lib/wire.js';
import { useEffect, useState } from 'preact/hooks';
import { ThroughputChart } from '../components/throughput-chart.js';
import { TypeLimitsForm } from '../components/type-limits-form.js';
import { formatDuration, formatNumber, STATUS_LABELS } from '../lib/format.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

/** Oldest queued age is read from one page of queued tasks: exact up to this many queued. */
const OLDEST_SCAN = 200;

export function TypePage({ type }: { type: string }) {
  const { client, who } = useSession();
  const name = decodeURIComponent(type);
  const [stats, setStats] = useState<Stats | null>(null);
  const [throughput, setThroughput] = useState<Throughput | null>(null);
  const [throughputError, setThroughputError] = useState<string | null>(null);
  const [settings, setSettings] = useState<TypeSettings | null | 'none'>(null);
  const [oldest, setOldest] = useState<number | null | 'unknown'>(null);

  useEffect(() => {
    client.insights.stats().then(setStats, () => undefined);
    client.types
      .throughput(name, { minutes: 60 })
      .then(setThroughput, (e: unknown) => setThroughputError(describeError(e)));
    // The list, not GET /v1/types/{type}: a type without settings would answer 404 (a console error).
    client.types.list().then(
      (all) => setSettings(all.find((t) => t.type === name) ?? 'none'),
      () => setSettings('none'),
    );
  }, [client, name]);

  const queued = stats?.byType[name]?.queued ?? 0;
  useEffect(() => {
    if (stats === null) return;
    if (queued === 0) return setOldest(null);
    if (queued > OLDEST_SCAN) return setOldest('unknown');
    client.tasks.list({ type: name, status: ['queued'], limit: OLDEST_SCAN }).then(
      (page) => setOldest(oldestWaiting(page.items, Date.now())),
      () => setOldest('unknown'),
    );
  }, [client, name, stats === null, queued]);

  const counts = stats?.byType[name];
  return (
    <section class="stack" aria-labelledby="type-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/types">Types and queues</a>
        <span aria-hidden="true">/</span>
        <span class="mono" aria-current="page">
          {name}
        </span>
      </nav>
      <div class="page-head">
        <div>
          <h1 id="type-title" class="mono">
            {name}
          </h1>
          <p class="muted page-sub">
            <a href={`/?type=${encodeURIComponent(name)}`}>See its tasks</a>
          </p>
        </div>
      </div>
      <div class="kpis">
        <div class="kpi kpi-wide">
          <span class="kpi-label">Oldest queued task has waited</span>
          <span class="kpi-value">
            {oldest === null ? '—' : oldest === 'unknown' ? `> ${OLDEST_SCAN} queued` : formatDuration(oldest)}
          </span>
        </div>
        {STATUSES.map((s) => (
          <div class="kpi" key={s}>
            <span class="kpi-label">{STATUS_LABELS[s]}</span>
            <span class="kpi-value">{counts === undefined ? '0' : formatNumber(counts[s] ?? 0)}</span>
          </div>
        ))}
      </div>
      <section class="card" aria-labelledby="throughput-title">
        <h2 id="throughput-title">Completions per minute, last hour</h2>
        {throughputError !== null && <p class="form-error">{throughputError}</p>}
        {throughput === null ? (
          <p class="muted">Loading…</p>
        ) : (
          <ThroughputChart data={throughput} label={`Throughput of ${name}`} />
        )}
      </section>
      <section class="card" aria-labelledby="limits-title">
        <h2 id="limits-title">Concurrency and rate limit</h2>
        {settings === null ? (
          <p class="muted">Loading…</p>
        ) : (
          <TypeLimitsForm
            type={name}
            settings={settings === 'none' ? null : settings}
            editable={can(who, 'admin')}
            onSaved={setSettings}
          />
        )}
      </section>
    </section>
  );
}

/** How long the longest-waiting claimable task has waited (its runAt, else queuedAt). */
function oldestWaiting(tasks: Task[], now: number): number | null {
  let since: number | null = null;
  for (const t of tasks) {
    const at = Date.parse(t.runAt ?? t.queuedAt ?? t.createdAt);
    if (at > now) continue;
    if (since === null || at < since) since = at;
  }
  return since === null ? null : now - since;
}
