/**
 * A store keeps the in-progress records it committed and trusts one only while the row is still
 * at its version (storage/record-cache.ts). These tests write through a second store on the same
 * database (another node, another process) and check that the first never answers with a record
 * the database no longer has, nor with one that never committed.
 */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/domain/task.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { ORG_A, T0, makeTask, uuidV7 } from '../helpers/task-factory.js';

export interface TwoStores {
  a: TaskStore;
  b: TaskStore;
  cleanup: () => Promise<void>;
}

/** `task`, claimed under lease `leaseId`: in progress, at the next version. */
const claimed = (task: Task, leaseId: string): Task => ({
  ...task,
  status: 'in_progress',
  attempt: task.attempt + 1,
  pollCount: task.pollCount + 1,
  lease: { id: leaseId, workerId: `worker-${leaseId}`, expiresAt: T0 + 30_000, lengthMs: 30_000 },
  version: task.version + 1,
  updatedAt: T0 + 1,
});

/** Write `next` over the stored `previous` in a unit of its own. */
const write = (store: TaskStore, next: Task, previous: Task) =>
  store.write(async (tx) => {
    expect(await tx.updateTasks([{ task: next, previous }])).toBe(1);
  });

const readForUpdate = (store: TaskStore, id: string) =>
  store.write(async (tx) => ({
    many: await tx.getTasksForUpdate(ORG_A, [id]),
    one: await tx.getTaskForUpdate(ORG_A, id),
  }));

export function recordCacheCoherenceSuite(name: string, twoStores: () => Promise<TwoStores>): void {
  describe(`record cache: ${name}`, () => {
    const withStores = async (test: (s: TwoStores, queued: Task) => Promise<void>) => {
      const s = await twoStores();
      try {
        const queued = makeTask({ id: uuidV7(1) });
        await s.a.write((tx) => tx.insertTasks([queued]));
        await test(s, queued);
      } finally {
        await s.cleanup();
      }
    };

    it('answers the record it committed while the row is unchanged, and the row once another store changed it', () =>
      withStores(async ({ a, b }, queued) => {
        const mine = claimed(queued, 'lease-a');
        await write(a, mine, queued);
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [mine], one: mine });
        // Another node heartbeats it (a new version, still in progress) behind this store's back.
        const theirs = { ...mine, progress: 0.5, version: mine.version + 1, updatedAt: T0 + 2 };
        await write(b, theirs, mine);
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [theirs], one: theirs });
        // And then hands it to another worker.
        const handedOver = claimed(theirs, 'lease-b');
        await write(b, handedOver, theirs);
        expect((await readForUpdate(a, queued.id)).many[0]?.lease?.id).toBe('lease-b');
      }));

    it('never keeps a record whose unit rolled back', () =>
      withStores(async ({ a, b }, queued) => {
        const boom = new Error('rolled back');
        const never = claimed(queued, 'lease-a');
        await expect(
          a.write(async (tx) => {
            await tx.updateTasks([{ task: never, previous: queued }]);
            throw boom;
          }),
        ).rejects.toBe(boom);
        // The same version, committed by another store with other content.
        const real = claimed(queued, 'lease-b');
        await write(b, real, queued);
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [real], one: real });
      }));

    it('never keeps a record written in a nested unit that rolled back', () =>
      withStores(async ({ a, b }, queued) => {
        const boom = new Error('rolled back');
        await a.write(async (tx) => {
          await expect(
            tx.nested(async () => {
              await tx.updateTasks([{ task: claimed(queued, 'lease-a'), previous: queued }]);
              throw boom;
            }),
          ).rejects.toBe(boom);
        });
        const real = claimed(queued, 'lease-b');
        await write(b, real, queued);
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [real], one: real });
      }));

    it('a claim takes each candidate as the database has it, not as this store created it', () =>
      withStores(async ({ a, b }, queued) => {
        // `queued` was created through a, which keeps its record; b renames it (still queued).
        const renamed = { ...queued, title: 'renamed elsewhere', version: queued.version + 1, updatedAt: T0 + 5 };
        await write(b, renamed, queued);
        const other = makeTask({ id: uuidV7(2), createdAt: T0 + 1 });
        await a.write((tx) => tx.insertTasks([other]));
        const taken = await a.write((tx) => tx.claimable(ORG_A, ['email.send'], 10));
        expect(taken).toEqual([renamed, other]);
        // Claimed through b behind a's back: no longer a candidate for a.
        await write(b, claimed(other, 'lease-b'), other);
        expect(await a.write((tx) => tx.claimable(ORG_A, ['email.send'], 10))).toEqual([renamed]);
      }));

    it('forgets a task that was deleted, and one that left in_progress', () =>
      withStores(async ({ a, b }, queued) => {
        const mine = claimed(queued, 'lease-a');
        await write(a, mine, queued);
        const done = { ...mine, status: 'completed' as const, lease: null, version: mine.version + 1 };
        await write(a, done, mine);
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [done], one: done });
        await b.write((tx) => tx.deleteTask(ORG_A, queued.id));
        expect(await readForUpdate(a, queued.id)).toEqual({ many: [], one: null });
      }));
  });
}
