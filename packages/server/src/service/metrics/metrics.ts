/**
 * The node's Prometheus metrics (`GET /metrics`), every name starting `tasklane_`, in a registry of
 * its own (never prom-client's global one), so several apps in one process never share a series.
 * docs/metrics.md lists each metric; a test keeps the list and the registry alike.
 *
 * Sources: the events each unit commits (task-transitions.ts), storage read seldom (task-census.ts),
 * the store's errors (store-errors.ts), the HTTP layer (`observeRequest`), and hooks the node wires:
 * open event streams, webhook attempts (`webhookAttempt`) and the outbox backlog.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../../domain/clock.js';
import type { TaskStore } from '../../storage/task-store.js';
import { countingStoreErrors } from './store-errors.js';
import { TaskCensusMetrics } from './task-census.js';
import { TaskTransitionMetrics } from './task-transitions.js';
import { MAX_TYPE_LABELS, TypeLabels } from './type-labels.js';

export type WebhookOutcome = 'delivered' | 'retried' | 'failed';
const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = ['delivered', 'retried', 'failed'];

/** Figures another part of the node owns, read at each scrape. */
export interface MetricsSources {
  /** Event streams open on this node. */
  openStreams?: () => number;
  /** Webhook deliveries waiting in the outbox (every node sees the same). */
  webhookBacklog?: () => Promise<number>;
}

export interface MetricsOptions {
  clock: Clock;
  /** How long the storage gauges are kept before storage is read again (default 5 s). */
  censusTtlMs?: number;
  /** Distinct task types labelled by name before the rest fold into `_other` (default 200). */
  maxTypes?: number;
}

/** Seconds: most API calls take milliseconds; a long-poll holds up to 60 s. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const statusClass = (code: number): string => (code >= 500 ? '5xx' : code >= 400 ? '4xx' : code >= 300 ? '3xx' : '2xx');

export class Metrics {
  readonly registry = new Registry();
  readonly sources: MetricsSources = {};
  private readonly http: Histogram<'method' | 'route' | 'status_class'>;
  private readonly webhooks: Counter<'outcome'>;
  private readonly storageErrors: Counter<'operation'>;
  private readonly transitions: TaskTransitionMetrics;
  /** The store with its errors counted: what the services and the census read through. */
  private readonly counted: TaskStore;
  private defaultsOn = false;

  constructor(
    private readonly store: TaskStore,
    opts: MetricsOptions,
  ) {
    const registers = [this.registry];
    const types = new TypeLabels(opts.maxTypes ?? MAX_TYPE_LABELS);
    this.transitions = new TaskTransitionMetrics(this.registry, types);
    this.storageErrors = new Counter({
      name: 'tasklane_storage_errors_total',
      help: 'Errors storage threw that are not answers of the domain (unavailable, driver errors), by operation',
      labelNames: ['operation'],
      registers,
    });
    this.counted = countingStoreErrors(store, this.storageErrors);
    new TaskCensusMetrics(this.registry, this.counted, types, opts.clock, opts.censusTtlMs);
    this.http = new Histogram({
      name: 'tasklane_http_request_duration_seconds',
      help: 'HTTP requests answered, by route pattern (`unmatched`: no route) and status class; streams not included',
      labelNames: ['method', 'route', 'status_class'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    const sources = this.sources;
    new Gauge({
      name: 'tasklane_event_streams_open',
      help: 'Event streams open on this node',
      registers,
      collect() {
        this.set(sources.openStreams?.() ?? 0);
      },
    });
    this.webhooks = new Counter({
      name: 'tasklane_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), retried (to be tried again), failed (given up)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of WEBHOOK_OUTCOMES) this.webhooks.inc({ outcome }, 0);
    new Gauge({
      name: 'tasklane_webhook_outbox_backlog',
      help: 'Webhook deliveries waiting to be sent or retried',
      registers,
      async collect() {
        const backlog = sources.webhookBacklog;
        if (backlog === undefined) return this.set(0);
        // Storage not answering is counted by the store; the last figure stands.
        await backlog().then(
          (n) => this.set(n),
          () => undefined,
        );
      },
    });
  }

  /**
   * The store every service of the node uses: the same store, its errors counted; and from now on
   * the events its units commit are counted. Called once, by createServices.
   */
  watch(): TaskStore {
    this.store.onCommit(this.transitions.count);
    return this.counted;
  }

  /** One answered request: its route pattern (never the raw URL), undefined when none matched. */
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.http.observe({ method, route: route ?? 'unmatched', status_class: statusClass(statusCode) }, seconds);
  }

  /** One webhook delivery attempt ended (the dispatcher's onAttempt). */
  webhookAttempt(outcome: WebhookOutcome): void {
    this.webhooks.inc({ outcome });
  }

  /**
   * The exposition text. The process metrics (prom-client's defaults, prefixed `tasklane_`) start
   * at the first scrape: a node nobody scrapes, or an app a test builds, keeps no observers for them.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    if (!this.defaultsOn) {
      this.defaultsOn = true;
      collectDefaultMetrics({ register: this.registry, prefix: 'tasklane_' });
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
