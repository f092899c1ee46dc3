/** Every service of one node, built over one store and one clock. */
import type { Clock } from '../domain/clock.js';
import type { TaskStore } from '../storage/task-store.js';
import { AuthService } from './auth-service.js';
import { InsightsService } from './insights-service.js';
import { Maintenance, type MaintenanceOptions } from './maintenance.js';
import { ProjectService } from './project-service.js';
import { TaskService } from './task-service.js';
import { TypeService } from './type-service.js';
import { WorkerService } from './worker-service.js';

export interface Services {
  store: TaskStore;
  auth: AuthService;
  tasks: TaskService;
  workers: WorkerService;
  projects: ProjectService;
  types: TypeService;
  insights: InsightsService;
  maintenance: Maintenance;
}

/** What the HTTP app needs: every service but the background upkeep, which is the node's, not the transport's. */
export type AppServices = Omit<Services, 'maintenance'>;

export interface ServicesOptions {
  clock: Clock;
  /** Uniform in [0, 1) (retry jitter); tests pass a seeded one. */
  random?: () => number;
  maintenance?: MaintenanceOptions;
}

export function createServices(store: TaskStore, opts: ServicesOptions): Services {
  const tasks = new TaskService({ store, clock: opts.clock, ...(opts.random ? { random: opts.random } : {}) });
  return {
    store,
    auth: new AuthService(store, opts.clock),
    tasks,
    workers: new WorkerService(store, tasks, tasks.changes, opts.clock),
    projects: new ProjectService(store),
    types: new TypeService(store),
    insights: new InsightsService(store),
    maintenance: new Maintenance(store, tasks, opts.maintenance),
  };
}
