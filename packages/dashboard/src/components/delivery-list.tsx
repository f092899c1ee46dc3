/**
 * Webhook and callback deliveries, newest first: event, target, status, every attempt (time, HTTP
 * status, duration, error) and, when the owner can retry them, a Retry button. Shown on the webhooks
 * page (per endpoint) and on a task's page. Deliveries have no events of their own, so while one is
 * pending the owner reads the list again when its attempt is due (`usePendingRefresh`), and stops
 * once none is.
 */
import type { WebhookDelivery } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { formatTime } from '../lib/format.js';
import { describeError } from '../lib/session.js';
import { RelativeTime } from './relative-time.js';

const MIN_REFRESH_MS = 2000;
const MAX_REFRESH_MS = 60_000;

const STATUS: Record<WebhookDelivery['status'], { label: string; badge: string }> = {
  pending: { label: 'Pending', badge: 'badge-queued' },
  delivered: { label: 'Delivered', badge: 'badge-completed' },
  failed: { label: 'Failed', badge: 'badge-failed' },
};

export interface DeliveryListProps {
  deliveries: WebhookDelivery[];
  /** Retries a delivery (the endpoint's route on its log; the task's route, callbacks included, on a task). */
  onRetry?: (d: WebhookDelivery) => Promise<void>;
  /** Name the task of each delivery (the endpoint's log), or the target (a task's page). */
  show: 'task' | 'target';
  label: string;
}

export function DeliveryList({ deliveries, onRetry, show, label }: DeliveryListProps) {
  if (deliveries.length === 0) return <p class="muted">No deliveries yet.</p>;
  return (
    <ul class="deliveries" aria-label={label}>
      {deliveries.map((d) => (
        <DeliveryItem key={d.id} d={d} show={show} {...(onRetry === undefined ? {} : { onRetry })} />
      ))}
    </ul>
  );
}

function DeliveryItem({
  d,
  show,
  onRetry,
}: {
  d: WebhookDelivery;
  show: 'task' | 'target';
  onRetry?: DeliveryListProps['onRetry'];
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const status = STATUS[d.status];
  const retry = async () => {
    if (onRetry === undefined) return;
    setBusy(true);
    setError(null);
    try {
      await onRetry(d);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const last = d.attempts.at(-1);
  return (
    <li class="delivery" data-delivery-id={d.id} data-status={d.status}>
      <div class="delivery-head">
        <span class={`badge ${status.badge}`}>
          <span class="badge-dot" aria-hidden="true" />
          {status.label}
        </span>
        <span class="mono small">{d.eventType}</span>
        <span class="muted small">
          <RelativeTime iso={d.createdAt} />
        </span>
      </div>
      <div class="delivery-meta small">
        {show === 'task' ? (
          <a href={`/tasks/${encodeURIComponent(d.taskId)}`} class="mono">
            {d.taskId}
          </a>
        ) : (
          <span class="mono delivery-target">{d.webhookId === null ? `callback: ${d.url}` : d.url}</span>
        )}
        <span class="mono muted"> {d.id}</span>
      </div>
      <div class="delivery-meta small">
        {last === undefined
          ? 'No attempt yet'
          : `${d.attempts.length} ${d.attempts.length === 1 ? 'attempt' : 'attempts'}`}
        {d.nextAttemptAt !== null && (
          <>
            {' · next '}
            <RelativeTime iso={d.nextAttemptAt} />
          </>
        )}
      </div>
      {d.attempts.length > 0 && (
        <details class="attempts" open={d.status !== 'delivered'}>
          <summary>Attempts</summary>
          <ol>
            {d.attempts.map((a, i) => (
              <li key={i}>
                <time dateTime={a.at}>{formatTime(a.at)}</time>
                <span class={a.httpStatus !== null && a.httpStatus < 300 ? 'attempt-ok' : 'attempt-bad'}>
                  {a.httpStatus === null ? 'no answer' : `HTTP ${a.httpStatus}`}
                </span>
                <span>{a.durationMs} ms</span>
                {a.error !== null && a.error !== `HTTP ${a.httpStatus}` && <span class="attempt-error">{a.error}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
      {onRetry !== undefined && (
        <div class="row-end">
          <button type="button" class="btn btn-small" onClick={() => void retry()} disabled={busy}>
            {busy ? 'Queuing…' : 'Retry'}
            <span class="visually-hidden"> delivery {d.id}</span>
          </button>
        </div>
      )}
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/**
 * Calls `load` again while any of `deliveries` is pending: 2 s after an attempt is due (or now, for
 * one in flight), at least 2 s and at most a minute apart, so a delivery waiting hours for its next
 * attempt costs a read a minute.
 */
export function usePendingRefresh(deliveries: WebhookDelivery[] | null, load: () => void): void {
  useEffect(() => {
    const due = (deliveries ?? [])
      .filter((d) => d.status === 'pending')
      .map((d) => (d.nextAttemptAt === null ? 0 : Date.parse(d.nextAttemptAt)));
    if (due.length === 0) return;
    const wait = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, Math.min(...due) - Date.now() + MIN_REFRESH_MS));
    const timer = setTimeout(load, wait);
    return () => clearTimeout(timer);
  }, [deliveries]);
}
