/** Every service of one node, built over one store and one clock. */
import type { Clock } from '../domain/clock.js';
import type { TaskStore } from '../storage/task-store.js';
import { AuthService } from './auth-service.js';
import { BulkActionsService } from './bulk-actions.js';
import { ChangeHub } from './change-hub.js';
import { EventService, type EventServiceOptions } from './event-service.js';
import { InsightsService } from './insights-service.js';
import { Metrics, type MetricsOptions } from './metrics/metrics.js';
import { Maintenance, type MaintenanceOptions } from './maintenance.js';
import { OrgService } from './org-service.js';
import { ProjectService } from './project-service.js';
import { TaskService } from './task-service.js';
import { TaskWriter } from './task-writer.js';
import { TypeService } from './type-service.js';
import { TypeThroughputService } from './type-throughput.js';
import { WorkerService } from './worker-service.js';
import { WebhookDispatcher, type DispatcherOptions } from './webhook-dispatcher.js';
import { WebhookService } from './webhook-service.js';

export interface Services {
  store: TaskStore;
  /** Applies and writes task changes; the use cases below share it. */
  writer: TaskWriter;
  /** Fans committed changes out to the long-polls waiting on them. */
  changes: ChangeHub;
  auth: AuthService;
  /** The caller's org: its settings. */
  org: OrgService;
  tasks: TaskService;
  /** One action on many tasks, each through `tasks`. */
  bulk: BulkActionsService;
  workers: WorkerService;
  projects: ProjectService;
  types: TypeService;
  throughput: TypeThroughputService;
  insights: InsightsService;
  /** Event streams and pages; `events.openStreams` counts the streams open on this node. */
  events: EventService;
  /** The node's Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  maintenance: Maintenance;
  /** Webhook endpoints, deliveries and the callback secret. */
  webhooks: WebhookService;
  /** Sends the webhook outbox; started and stopped by the node like `maintenance`. */
  dispatcher: WebhookDispatcher;
}

/**
 * What the HTTP app needs: the use cases, not the background upkeep (the node's, not the
 * transport's) nor the machinery the use cases share (a route changes a task through them only).
 */
export type AppServices = Omit<Services, 'maintenance' | 'writer' | 'changes' | 'dispatcher'>;

export interface ServicesOptions {
  clock: Clock;
  /** Uniform in [0, 1) (retry jitter); tests pass a seeded one. */
  random?: () => number;
  maintenance?: MaintenanceOptions;
  events?: EventServiceOptions;
  metrics?: Omit<MetricsOptions, 'clock'>;
  /** The delivery engine's settings; `allowPrivate` and `resolve` apply to registration too. */
  webhooks?: Partial<DispatcherOptions>;
}

/** Without a renderer given, the event's fields as stored (the server passes the wire renderer). */
const plainRender: DispatcherOptions['renderEvent'] = (e) => JSON.stringify(e);

export function createServices(given: TaskStore, opts: ServicesOptions): Services {
  // Every service uses the store through the metrics' view of it, which counts its errors.
  const metrics = new Metrics(given, { clock: opts.clock, ...opts.metrics });
  const store = metrics.watch();
  // One writer and one change hub per node, shared by every use case that writes tasks or waits.
  const writer = new TaskWriter(opts.random ? { random: opts.random } : {});
  const changes = new ChangeHub(store);
  const tasks = new TaskService({ store, writer, changes });
  const events = new EventService(store, opts.events);
  metrics.sources.openStreams = () => events.openStreams;
  const onAttempt = opts.webhooks?.onAttempt;
  const dispatcher = new WebhookDispatcher(store, {
    renderEvent: plainRender,
    ...opts.webhooks,
    onAttempt: (outcome) => {
      metrics.webhookAttempt(outcome);
      onAttempt?.(outcome);
    },
  });
  metrics.sources.webhookBacklog = () => store.webhooks.countPendingDeliveries();
  return {
    store,
    writer,
    changes,
    auth: new AuthService(store, opts.clock),
    org: new OrgService(store),
    tasks,
    bulk: new BulkActionsService(store, tasks),
    workers: new WorkerService(store, writer, changes, opts.clock),
    projects: new ProjectService(store),
    types: new TypeService(store),
    throughput: new TypeThroughputService(store),
    insights: new InsightsService(store),
    events,
    metrics,
    maintenance: new Maintenance(store, writer, opts.maintenance),
    webhooks: new WebhookService(store, opts.clock, {
      ...(opts.webhooks?.allowPrivate === undefined ? {} : { allowPrivate: opts.webhooks.allowPrivate }),
      ...(opts.webhooks?.resolve === undefined ? {} : { resolve: opts.webhooks.resolve }),
      onQueued: () => dispatcher.wake(),
    }),
    dispatcher,
  };
}
