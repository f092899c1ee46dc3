/**
 * The worker side of SPEC §3, §5, §6 and §7 (claims, leases and fencing, the sweeper, retries,
 * review, type limits, dependencies, the reaper), and the events of §10 a task's life writes, tested
 * through the services over any TaskStore.
 * One topic a file under worker/; this is the one entry each adapter's test file calls, and it
 * registers every topic. Every rule runs on the injected ManualClock: nothing sleeps. Only
 * long-poll claims wait on wall time, and those tests use short waits and measure that a wake-up
 * comes well before the deadline.
 */
import { describe } from 'vitest';
import { claimOrderAndVisibility } from './worker/claims.js';
import { concurrency } from './worker/concurrency.js';
import { dependencies } from './worker/dependencies.js';
import { taskEvents } from './worker/events.js';
import { useServices, type WorkerStoreUnderTest, type WorkerTopic } from './worker/fixture.js';
import { leasesAndFencing } from './worker/leases.js';
import { longPollClaims } from './worker/long-poll.js';
import { reaper } from './worker/reaper.js';
import { retries } from './worker/retries.js';
import { review } from './worker/review.js';
import { sweeper } from './worker/sweeper.js';
import { typesAndLimits } from './worker/types.js';

export type { WorkerStoreUnderTest };

/** Every topic, in the order they run. */
const TOPICS: readonly WorkerTopic[] = [
  claimOrderAndVisibility,
  longPollClaims,
  leasesAndFencing,
  sweeper,
  retries,
  review,
  typesAndLimits,
  dependencies,
  reaper,
  concurrency,
  taskEvents,
];

export function workerConformanceSuite(name: string, factory: () => Promise<WorkerStoreUnderTest>): void {
  describe(`worker services: ${name}`, () => {
    const fx = useServices(factory);
    for (const topic of TOPICS) topic(fx);
  });
}
