/**
 * Checking a delivery on the receiving side: the Standard Webhooks signature (through the
 * `standardwebhooks` package, which Tasklane signs with) and the timestamp (5 minutes either way),
 * then the body as a task event.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { TaskEvent } from './schemas/index.js';
import { EVENT_TYPES } from './vocabulary.js';

/** Thrown by `verifyWebhook` when a delivery is not one Tasklane signed with that secret, or is stale. */
export class TasklaneWebhookError extends Error {
  override readonly name = 'TasklaneWebhookError';
}

/** Request headers as Node.js (`req.headers`), fetch (`Headers`) or a plain object give them. */
export type WebhookHeaders =
  Headers | Record<string, string | string[] | undefined> | { get(name: string): string | null };

const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/**
 * The event a webhook or callback delivery carries, once its signature and timestamp check out with
 * `secret` (the endpoint's, or the org's callback secret; `whsec_…`). Pass the raw body as received,
 * before any JSON parsing. Throws `TasklaneWebhookError` when a header is missing, no signature
 * matches, the timestamp is more than 5 minutes off, or the body is not a task event; a plain
 * `Error` for an empty or malformed secret.
 */
export function verifyWebhook(body: string | Uint8Array, headers: WebhookHeaders, secret: string): TaskEvent {
  // A secret that is not `whsec_` and base64 is the receiver's own mistake: thrown as it is.
  const webhook = new Webhook(secret);
  let parsed: unknown;
  try {
    parsed = webhook.verify(body, pick(headers));
  } catch (err) {
    const reason = err instanceof WebhookVerificationError ? err.message : err instanceof Error ? err.message : '';
    throw new TasklaneWebhookError(`not a valid Tasklane delivery: ${reason || 'unreadable'}`, { cause: err });
  }
  if (!isTaskEvent(parsed)) throw new TasklaneWebhookError('the signed body is not a task event');
  return parsed;
}

function pick(headers: WebhookHeaders): Record<string, string> {
  const get =
    typeof headers.get === 'function'
      ? (name: string) => (headers as { get(n: string): string | null }).get(name)
      : (name: string) => {
          const h = headers as Record<string, string | string[] | undefined>;
          const key = Object.keys(h).find((k) => k.toLowerCase() === name);
          const v = key === undefined ? undefined : h[key];
          return Array.isArray(v) ? v.join(' ') : v;
        };
  const picked: Record<string, string> = {};
  for (const name of HEADERS) {
    const v = get(name);
    if (typeof v === 'string') picked[name] = v;
  }
  return picked;
}

function isTaskEvent(v: unknown): v is TaskEvent {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.id === 'number' &&
    typeof e.type === 'string' &&
    (EVENT_TYPES as readonly string[]).includes(e.type) &&
    typeof e.taskId === 'string' &&
    typeof e.time === 'string' &&
    typeof e.data === 'object' &&
    e.data !== null
  );
}
