/** @tasklane/sdk: the typed client of the Tasklane API, and the wire schemas its types come from. */
export {
  TasklaneClient,
  type TasklaneClientOptions,
  type RequestOptions,
  type ApiResponse,
  type Query,
  type TaskActionInput,
  type EtagLike,
  type TasksResource,
  type KeysResource,
  type OrgsResource,
  type ProjectsResource,
} from './client.js';
export type { AnswerHeaders } from './transport.js';
export { TasklaneApiError, TasklaneConnectionError, parseRetryAfter, type FieldError } from './errors.js';
export * from './vocabulary.js';
export * from './schemas/index.js';
export { WorkersResource, TypesResource, InsightsResource } from './worker-resources.js';
export { createWorker, PermanentError, type Worker, type WorkerOptions, type TaskContext } from './worker.js';
