/**
 * The TaskStore contract (src/storage/task-store.ts), as one suite every adapter runs. It tests the
 * contract only: what the doc comments promise, through the interface, never an adapter's tables.
 * One topic a file under store/; this is the one entry each adapter's test file calls, and it
 * registers every topic. Each test gets a fresh, migrated store from `factory`, with orgs ORG_A
 * and ORG_B already in it.
 */
import { describe } from 'vitest';
import { claims } from './store/claims.js';
import { close } from './store/close.js';
import { events } from './store/events.js';
import { useStore, type StoreTopic, type StoreUnderTest } from './store/fixture.js';
import { idempotency } from './store/idempotency.js';
import { listTasks } from './store/list-tasks.js';
import { orgScoping } from './store/org-scoping.js';
import { orgSettings } from './store/org-settings.js';
import { orgsAndKeys } from './store/orgs-keys.js';
import { projects } from './store/projects.js';
import { listsAndStats } from './store/stats.js';
import { steps } from './store/steps.js';
import { subscribe } from './store/subscribe.js';
import { sweeperAndReaper } from './store/sweeper-reaper.js';
import { taskDocument } from './store/task-document.js';
import { tasks } from './store/tasks.js';
import { typeSettings } from './store/types.js';
import { unitsOfWork } from './store/units.js';

export type { StoreUnderTest };

/** Every topic, in the order they run. */
const TOPICS: readonly StoreTopic[] = [
  orgsAndKeys,
  orgSettings,
  tasks,
  orgScoping,
  listTasks,
  steps,
  taskDocument,
  events,
  projects,
  idempotency,
  unitsOfWork,
  subscribe,
  typeSettings,
  claims,
  sweeperAndReaper,
  listsAndStats,
  close,
];

export function storeConformanceSuite(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`TaskStore contract: ${name}`, () => {
    const fx = useStore(factory);
    for (const topic of TOPICS) topic(fx);
  });
}
