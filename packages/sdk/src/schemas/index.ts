export * from './task.js';
export * from './admin.js';
export * from './problem.js';
