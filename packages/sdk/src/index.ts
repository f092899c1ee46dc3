/** @tasklane/sdk: the typed client of the Tasklane API, and the wire schemas its types come from. */
export { TasklaneClient, type TasklaneClientOptions } from './client.js';
export type {
  RequestOptions,
  ApiResponse,
  Query,
  Requester,
  StreamRequester,
  StreamRequestOptions,
} from './request.js';
export type { TasksResource, TaskActionInput, EtagLike } from './resources/tasks.js';
export type { KeysResource } from './resources/keys.js';
export type { OrgsResource } from './resources/orgs.js';
export type { OrgResource } from './resources/org.js';
export type { ProjectsResource } from './resources/projects.js';
export type { WebhooksResource, WebhookPatched } from './resources/webhooks.js';
export type { AnswerHeaders } from './http-exchange.js';
export { TasklaneApiError, TasklaneConnectionError, parseRetryAfter, type FieldError } from './errors.js';
export * from './vocabulary.js';
export * from './schemas/index.js';
export { WorkersResource } from './resources/workers.js';
export { TypesResource } from './resources/types.js';
export { InsightsResource } from './resources/insights.js';
export { EventsResource, type EventFilters, type EventStreamOptions } from './resources/events.js';
export type { StreamItem, StreamResetItem, LiveStreamOptions, ReconnectOptions } from './live-stream.js';
export { createWorker, PermanentError, type Worker, type WorkerOptions, type TaskContext } from './worker.js';
export { verifyWebhook, TasklaneWebhookError, type WebhookHeaders } from './verify-webhook.js';
