/** How `tasklane webhooks` prints endpoints and deliveries for people (--json prints the answers). */
import type { Webhook, WebhookDelivery } from '@tasklane/sdk';
import { shortTime, table, truncate } from './print.js';

export function webhookTable(hooks: readonly Webhook[]): string {
  return table(
    ['ID', 'STATE', 'EVENTS', 'FILTERS', 'URL'],
    hooks.map((h) => [
      h.id,
      h.enabled ? 'enabled' : `disabled${h.disabledReason === null ? '' : ` (${truncate(h.disabledReason, 40)})`}`,
      h.events.join(','),
      filters(h),
      h.url,
    ]),
  );
}

function filters(h: Webhook): string {
  const parts = [
    ...(h.taskTypes === null ? [] : [`type=${h.taskTypes.join(',')}`]),
    ...(h.listId === null ? [] : [`list=${h.listId}`]),
  ];
  return parts.length === 0 ? '-' : parts.join(' ');
}

/** The last attempt in a few words: `200, 12 ms` or `500, 3 ms: error`, `-` before any. */
export function lastAttempt(d: WebhookDelivery): string {
  const a = d.attempts.at(-1);
  if (a === undefined) return '-';
  const status = a.httpStatus === null ? 'no answer' : String(a.httpStatus);
  const error = a.error === null ? '' : `: ${truncate(a.error.replace(/\s+/g, ' '), 50)}`;
  return `${shortTime(a.at)} ${status}, ${a.durationMs} ms${error}`;
}

export function deliveryTable(items: readonly WebhookDelivery[]): string {
  return table(
    ['DELIVERY', 'STATUS', 'EVENT', 'TASK', 'TRIES', 'NEXT', 'LAST ATTEMPT'],
    items.map((d) => [
      d.id,
      d.status,
      `${d.eventType} #${d.eventId}`,
      d.taskId,
      String(d.attempts.length),
      shortTime(d.nextAttemptAt),
      lastAttempt(d),
    ]),
  );
}
