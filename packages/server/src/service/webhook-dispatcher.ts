/**
 * The delivery engine of one node (docs/webhooks.md). The outbox rows are written with their
 * events (webhook-store.ts); this loop sends them:
 *
 * - Claim: due pending deliveries, each under a lease (`leaseMs`, longer than an attempt can take),
 *   so with several nodes each attempt is in flight on one node, and a killed node's claims come
 *   back once their lease ends. The store never hands out a task's later delivery to a target
 *   while an earlier one is pending, so deliveries to one endpoint go in event order.
 * - Attempt: signed as Standard Webhooks say (the `standardwebhooks` package; after a rotation the
 *   previous secret signs too, space-separated), sent by webhook-sender.ts. 2xx: delivered. Any
 *   other answer, a timeout or a connection error: tried again with the same id after the
 *   schedule's pause (webhook-schedule.ts), failed once it is exhausted.
 * - Record: finishAttempt, only while the lease is still ours (a stale node records nothing).
 * - Wake: when a commit wrote deliveries, on this node or another (store.webhooks.onDeliveries:
 *   the events' own statement tells, so a busy org without endpoints wakes nothing), coalesced,
 *   and by polling every `pollMs` (retries come due, lost notifications).
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Webhook } from 'standardwebhooks';
import type { TaskStore, Unsubscribe } from '../storage/task-store.js';
import type { ClaimedDelivery, DeliveredEvent } from '../storage/webhook-store.js';
import { systemResolver, type Resolver } from './webhook-address.js';
import { DISABLE_AFTER_MS, RETRY_SCHEDULE_MS, retryDelay } from './webhook-schedule.js';
import { sendWebhook } from './webhook-sender.js';

export type AttemptKind = 'delivered' | 'retried' | 'failed';

/** Where a delivery goes (url null: a callback's own) and its signing secrets, or why not. */
type Target = { url: string | null; secrets: string[] } | { refused: string } | { held: string };

export interface DispatcherOptions {
  /** The event as its JSON text, exactly as an SSE `data:` line carries it. */
  renderEvent: (event: DeliveredEvent) => string;
  allowPrivate?: boolean;
  resolve?: Resolver;
  /** Pauses between attempts (default RETRY_SCHEDULE_MS); tests pass short ones. */
  schedule?: readonly number[];
  timeoutMs?: number;
  leaseMs?: number;
  batch?: number;
  pollMs?: number;
  disableAfterMs?: number;
  /** Uniform in [0, 1) (jitter). */
  random?: () => number;
  /** The time put in webhook-timestamp (default: now). */
  now?: () => number;
  /** Told of each recorded attempt (metrics). */
  onAttempt?: (outcome: AttemptKind) => void;
  onError?: (err: unknown) => void;
}

/** A fresh signing secret: `whsec_` and 24 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

const MIN_GAP_MS = 20;

/** One signal for every attempt in flight: each request listens to it, a batch at a time and more. */
function attemptsController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export class WebhookDispatcher {
  private readonly opts: Required<Omit<DispatcherOptions, 'onAttempt' | 'onError'>> &
    Pick<DispatcherOptions, 'onAttempt' | 'onError'>;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: Unsubscribe[] = [];
  /** Cuts the attempts in flight at stop(); a fresh one for each start(). */
  private abort = attemptsController();

  constructor(
    private readonly store: TaskStore,
    opts: DispatcherOptions,
  ) {
    this.opts = {
      allowPrivate: false,
      resolve: systemResolver,
      schedule: RETRY_SCHEDULE_MS,
      timeoutMs: 10_000,
      leaseMs: 30_000,
      batch: 32,
      pollMs: 1_000,
      disableAfterMs: DISABLE_AFTER_MS,
      random: Math.random,
      now: Date.now,
      ...opts,
    };
  }

  start(): void {
    this.stopped = false;
    if (this.abort.signal.aborted) this.abort = attemptsController();
    this.unsubscribe.push(this.store.webhooks.onDeliveries(() => this.wake()));
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Stop claiming; attempts in flight are cut and their deliveries given back (releaseDelivery):
   * the receiver may have had the request already, and gets it again with the same webhook-id.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.timer !== null) clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  /** Run the loop now (or once more after the running pass). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        // A short gap: a burst of commits costs one more pass, not one pass each.
        setTimeout(() => this.wake(), MIN_GAP_MS).unref();
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.runOnce()) > 0);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  /** Claim one batch and attempt each of its deliveries; returns how many were claimed. */
  async runOnce(): Promise<number> {
    const claimed = await this.store.webhooks.claimDeliveries(this.opts.batch, this.opts.leaseMs);
    // Where each delivery goes, read once per endpoint (or org's callback secret) for the batch.
    const targets = new Map<string, Promise<Target>>();
    const targetOf = (d: ClaimedDelivery): Promise<Target> => {
      const key = `${d.orgId}\n${d.webhookId ?? ''}`;
      let target = targets.get(key);
      if (target === undefined) targets.set(key, (target = this.target(d)));
      return target;
    };
    await Promise.all(
      claimed.map((d) => this.attempt(d, targetOf(d)).catch((err: unknown) => this.opts.onError?.(err))),
    );
    return claimed.length;
  }

  private async attempt(d: ClaimedDelivery, targetOf: Promise<Target>): Promise<void> {
    const target = await targetOf;
    if ('held' in target) {
      // Disabled since the claim: no attempt, nothing spent; it waits (unclaimable) until enabled.
      await this.store.webhooks.releaseDelivery(d);
      return;
    }
    const attemptAt = d.claimedAt;
    let outcome: { httpStatus: number | null; durationMs: number; error: string | null };
    let url = d.url;
    if ('refused' in target) outcome = { httpStatus: null, durationMs: 0, error: target.refused };
    else {
      url = target.url ?? d.url;
      const body = this.opts.renderEvent(d.event);
      const timestamp = new Date(this.opts.now());
      const signature = target.secrets.map((s) => new Webhook(s).sign(d.id, timestamp, body)).join(' ');
      outcome = await sendWebhook(
        url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'Tasklane-Webhooks/1',
          'webhook-id': d.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
        {
          allowPrivate: this.opts.allowPrivate,
          resolve: this.opts.resolve,
          timeoutMs: this.opts.timeoutMs,
          signal: this.abort.signal,
        },
      );
      // Cut by stop(): no attempt recorded (the endpoint is not at fault, the schedule not spent),
      // and the claim given back at once, so the delivery goes again (same id) from another node
      // or after the restart, not 30 s later when the lease would have ended.
      if (this.abort.signal.aborted) {
        await this.store.webhooks.releaseDelivery(d);
        return;
      }
    }
    const ok = outcome.error === null && outcome.httpStatus !== null && outcome.httpStatus < 300;
    const delay =
      ok || 'refused' in target ? null : retryDelay(this.opts.schedule, d.attempts.length + 1, this.opts.random);
    const kind: AttemptKind = ok ? 'delivered' : delay === null ? 'failed' : 'retried';
    const recorded = await this.store.webhooks.finishAttempt(d, {
      attempt: { at: attemptAt, ...outcome },
      outcome: kind === 'delivered' ? 'delivered' : kind === 'failed' ? 'failed' : 'retry',
      ...(delay === null ? {} : { retryInMs: delay }),
      url,
      disableAfterMs: this.opts.disableAfterMs,
      disableReason: 'Every attempt failed for 5 days.',
    });
    if (recorded) this.opts.onAttempt?.(kind);
  }

  /** Where and with which secrets to send, or why not (an endpoint deleted, or disabled, since the claim). */
  private async target(d: ClaimedDelivery): Promise<Target> {
    if (d.webhookId === null) {
      return { url: null, secrets: [await this.store.webhooks.callbackSecret(d.orgId, newWebhookSecret())] };
    }
    const endpoint = await this.store.webhooks.getEndpoint(d.orgId, d.webhookId);
    if (endpoint === null) return { refused: 'endpoint deleted' };
    if (!endpoint.enabled) return { held: 'endpoint disabled' };
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret !== null && (endpoint.previousSecretUntil ?? 0) > d.claimedAt) {
      secrets.push(endpoint.previousSecret);
    }
    return { url: endpoint.url, secrets };
  }
}
