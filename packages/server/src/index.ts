/** The server as a library: start it in-process, or build the HTTP app around your own store. */
export { loadConfig, type Config } from './config/config.js';
export { startServer, type RunningServer } from './server.js';
export { buildApp, type AppOptions, type AppServices } from './http/app.js';
export type { TaskStore, StoreReader, StoreWriter } from './storage/task-store.js';
