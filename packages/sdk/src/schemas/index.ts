export * from './task.js';
export * from './admin.js';
export * from './problem.js';
export * from './worker.js';
export * from './bulk.js';
export * from './events.js';
export * from './webhooks.js';
