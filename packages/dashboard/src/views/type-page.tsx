/** One type: counts by status, how long the oldest queued task waits, throughput, limits (editable with admin). */
import type { Stats, Throughput, TypeSettings } from '@tasklane/sdk';
import { STATUSES } from '../lib/wire.js';
import { useEffect, useState } from 'preact/hooks';
import { ThroughputChart } from '../components/throughput-chart.js';
import { TypeLimitsForm } from '../components/type-limits-form.js';
import { formatDuration, formatNumber, STATUS_LABELS } from '../lib/format.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function TypePage({ type }: { type: string }) {
  const { client, who } = useSession();
  const name = decodeURIComponent(type);
  const [stats, setStats] = useState<Stats | null>(null);
  const [throughput, setThroughput] = useState<Throughput | null>(null);
  const [throughputError, setThroughputError] = useState<string | null>(null);
  const [settings, setSettings] = useState<TypeSettings | null | 'none'>(null);

  useEffect(() => {
    // The stats of this type alone: its counts, and its oldest claimable task however many are queued.
    client.insights.stats({ type: name }).then(setStats, () => undefined);
    client.types
      .throughput(name, { minutes: 60 })
      .then(setThroughput, (e: unknown) => setThroughputError(describeError(e)));
    // The list, not GET /v1/types/{type}: a type without settings would answer 404 (a console error).
    client.types.list().then(
      (all) => setSettings(all.find((t) => t.type === name) ?? 'none'),
      () => setSettings('none'),
    );
  }, [client, name]);

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
            {stats?.oldestQueuedAgeMs == null ? '—' : formatDuration(stats.oldestQueuedAgeMs)}
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
