/**
 * A task's webhook and callback deliveries (GET /v1/tasks/{id}/deliveries, admin keys only; others
 * see nothing), read again when the task changes (a change may queue deliveries) and while one is
 * pending; any of them, a callback's included, can be retried.
 */
import type { WebhookDelivery } from '@tasklane/sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';
import { DeliveryList, usePendingRefresh } from './delivery-list.js';

const CHANGE_READ_MS = 1000;

export function WebhookDeliveries(props: { taskId: string; version: number }) {
  const { who } = useSession();
  if (!can(who, 'admin')) return null;
  return <TaskDeliveries {...props} />;
}

function TaskDeliveries({ taskId, version }: { taskId: string; version: number }) {
  const { client } = useSession();
  const [items, setItems] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    client.tasks.deliveries(taskId).then(
      (list) => {
        setItems(list);
        setError(null);
      },
      (err: unknown) => setError(describeError(err)),
    );
  };
  useEffect(load, [client, taskId]);
  // A change may have queued deliveries: read again, at most once a second while the task moves.
  const soon = useRef<ReturnType<typeof setTimeout> | null>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    soon.current ??= setTimeout(() => {
      soon.current = null;
      load();
    }, CHANGE_READ_MS);
  }, [version]);
  useEffect(() => () => clearTimeout(soon.current ?? undefined), []);
  usePendingRefresh(items, load);
  // Through the task, so a callback's delivery (which has no endpoint) can be sent again too.
  const retry = async (d: WebhookDelivery) => {
    await client.tasks.retryDelivery(taskId, d.id);
    load();
  };
  return (
    <section class="card" aria-labelledby="deliveries-title" aria-busy={items === null}>
      <h2 id="deliveries-title">Webhook deliveries</h2>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {items !== null && (
        <DeliveryList deliveries={items} onRetry={retry} show="target" label="Webhook deliveries of this task" />
      )}
    </section>
  );
}
