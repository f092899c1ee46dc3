/** One endpoint's delivery log, newest first, a page at a time ("Older"), with Retry. */
import type { WebhookDelivery } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';
import { DeliveryList, usePendingRefresh } from './delivery-list.js';

const PAGE = 20;

export function EndpointDeliveries({ webhookId, id, label }: { webhookId: string; id: string; label: string }) {
  const { client } = useSession();
  const [items, setItems] = useState<WebhookDelivery[] | null>(null);
  const [nextAfter, setNextAfter] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The newest pages again, as many items as are shown (a retry or a new delivery changes them). */
  const load = (limit = PAGE) => {
    client.webhooks.deliveries(webhookId, { limit: Math.min(100, Math.max(PAGE, limit)) }).then(
      (page) => {
        setItems(page.items);
        setNextAfter(page.nextAfter);
        setError(null);
      },
      (err: unknown) => setError(describeError(err)),
    );
  };
  useEffect(() => load(), [client, webhookId]);
  usePendingRefresh(items, () => load(items?.length));
  const older = async () => {
    if (nextAfter === null) return;
    try {
      const page = await client.webhooks.deliveries(webhookId, { limit: PAGE, after: nextAfter });
      setItems((list) => [...(list ?? []), ...page.items.filter((d) => !(list ?? []).some((x) => x.id === d.id))]);
      setNextAfter(page.nextAfter);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const retry = async (d: WebhookDelivery) => {
    await client.webhooks.retryDelivery(webhookId, d.id);
    load(items?.length);
  };
  return (
    <div id={id} class="endpoint-deliveries" aria-busy={items === null}>
      <div class="subhead-row">
        <h3 class="subhead">Recent deliveries</h3>
        <button type="button" class="btn btn-small btn-ghost" onClick={() => load(items?.length)}>
          Refresh
        </button>
      </div>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {items !== null && <DeliveryList deliveries={items} onRetry={retry} show="task" label={label} />}
      {nextAfter !== null && (
        <button type="button" class="btn btn-small" onClick={() => void older()}>
          Older deliveries
        </button>
      )}
    </div>
  );
}
