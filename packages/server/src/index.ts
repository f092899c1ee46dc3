/** The server as a library: start it in-process, or build the HTTP app around your own store. */
export { loadConfig, type Config } from './config/config.js';
export { startServer, type RunningServer } from './server.js';
export { buildApp, type AppOptions } from './http/app.js';
export type { AppServices } from './service/services.js';
export type { TaskStore, StoreReader, StoreWriter } from './storage/task-store.js';
