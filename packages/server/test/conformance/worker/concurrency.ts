/** Many workers at once: every task completed exactly once, none lost. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/service/services.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { ORG_A } from '../../helpers/task-factory.js';
import { leaseOf, type WorkerTopic } from './fixture.js';

export const concurrency: WorkerTopic = (fx) => {
  const { claim } = fx;

  describe('concurrency', () => {
    let services!: Services;
    beforeEach(() => {
      ({ services } = fx);
    });

    it('8 concurrent workers over 500 tasks: every task completed exactly once, none lost', async () => {
      const total = 500;
      for (let i = 0; i < total; i += 250) {
        await services.tasks.createBatch(
          { orgId: ORG_A, keyName: 'k' },
          {
            tasks: Array.from({ length: 250 }, (_, j) => ({
              type: 'job',
              priority: (i + j) % 7,
              maxRetries: 100,
              input: { n: i + j },
            })),
          },
        );
      }
      const completions = new Map<string, number>();
      const errors: unknown[] = [];
      let done = 0;
      const worker = async (w: number) => {
        const random = seededRandom(w + 1);
        while (done < total) {
          const batch = await claim({ workerId: `worker-${w}`, limit: 1 + Math.floor(random() * 5) });
          if (batch.length === 0) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          for (const t of batch) {
            try {
              if (random() < 0.1) {
                // Some attempts fail and are retried at once: the task still completes exactly once.
                await services.workers.fail(ORG_A, t.id, {
                  leaseId: leaseOf(t),
                  error: { message: 'flaky' },
                  retryAfterMs: 0,
                });
                continue;
              }
              await services.workers.complete(ORG_A, t.id, { leaseId: leaseOf(t), result: { by: w } });
              completions.set(t.id, (completions.get(t.id) ?? 0) + 1);
              done++;
            } catch (err) {
              errors.push(err);
              done = total; // stop everyone: the assertion below reports it
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
      expect(errors).toEqual([]);
      expect(completions.size).toBe(total);
      expect([...completions.values()].every((n) => n === 1)).toBe(true);
      const stats = await services.insights.stats(ORG_A);
      expect(stats.total).toBe(total);
      expect(stats.byStatus.completed).toBe(total);
    });
  });
};
