/** Lists and stats: the tasks of a list, counts by status and type, the oldest queued task. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { ids, sortedCounts, type StoreTopic } from './fixture.js';

export const listsAndStats: StoreTopic = (fx) => {
  const { task, inStatus, insert } = fx;

  describe('lists and stats', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    it('getListTasks: the tasks of one list of one org, oldest first, at most limit', async () => {
      const [l1, l2, l3] = [
        task({ listId: 'L1' }),
        task({ listId: 'L1', status: 'completed' }),
        task({ listId: 'L1' }),
      ];
      await insert(l3, task({ listId: 'L2' }), l1, task(), task({ orgId: ORG_B, listId: 'L1' }), l2);
      await store.read(async (tx) => {
        expect(await tx.getListTasks(ORG_A, 'L1', 100)).toEqual([l1, l2, l3]);
        expect(ids(await tx.getListTasks(ORG_A, 'L1', 2))).toEqual(ids([l1, l2]));
        expect(await tx.getListTasks(ORG_A, 'L9', 100)).toEqual([]);
        expect(await tx.getListTasks(ORG_B, 'L1', 100)).toHaveLength(1);
      });
    });

    it('countTasks: counts by status and type, archived included, of the org or one of its lists', async () => {
      await insert(
        task({ listId: 'L1' }),
        task({ listId: 'L1', archivedAt: T0 }),
        inStatus('completed', { listId: 'L1' }),
        task({ type: 'pdf.render', listId: 'L1' }),
        task({ type: 'pdf.render' }),
        inStatus('failed', { type: 'pdf.render', listId: 'L2' }),
        task({ orgId: ORG_B, listId: 'L1' }),
      );
      await store.read(async (tx) => {
        expect(sortedCounts(await tx.countTasks(ORG_A))).toEqual(
          sortedCounts([
            { status: 'queued', type: 'email.send', count: 2 },
            { status: 'completed', type: 'email.send', count: 1 },
            { status: 'queued', type: 'pdf.render', count: 2 },
            { status: 'failed', type: 'pdf.render', count: 1 },
          ]),
        );
        expect(sortedCounts(await tx.countTasks(ORG_A, 'L1'))).toEqual(
          sortedCounts([
            { status: 'queued', type: 'email.send', count: 2 },
            { status: 'completed', type: 'email.send', count: 1 },
            { status: 'queued', type: 'pdf.render', count: 1 },
          ]),
        );
        expect(await tx.countTasks(ORG_A, 'L9')).toEqual([]);
        expect(await tx.countTasks(ORG_B)).toEqual([{ status: 'queued', type: 'email.send', count: 1 }]);
      });
    });

    it('countQueued: queued tasks of each type asked, due now or later; 0 for a type with none', async () => {
      clock.set(T0 + 10_000);
      await insert(
        task(),
        task({ runAt: T0 + 20_000 }), // due later: still in the queue
        inStatus('in_progress'),
        inStatus('backlog'),
        inStatus('completed'),
        task({ type: 'pdf.render' }),
        task({ type: 'other' }),
        task({ orgId: ORG_B }),
      );
      await store.read(async (tx) => {
        expect(await tx.countQueued(ORG_A, ['email.send', 'pdf.render', 'none'])).toEqual(
          new Map([
            ['email.send', 2],
            ['pdf.render', 1],
            ['none', 0],
          ]),
        );
        expect(await tx.countQueued(ORG_B, ['email.send'])).toEqual(new Map([['email.send', 1]]));
        expect(await tx.countQueued(ORG_A, [])).toEqual(new Map());
      });
    });

    it('oldestQueuedAt: the oldest queuedAt among claimable queued tasks of the org', async () => {
      clock.set(T0 + 10_000);
      await store.read(async (tx) => expect(await tx.oldestQueuedAt(ORG_A)).toBeNull());
      await insert(
        task({ queuedAt: T0 + 300 }),
        task({ queuedAt: T0 + 200 }),
        task({ queuedAt: T0 + 100, runAt: T0 + 20_000 }), // not claimable yet
        inStatus('backlog', { queuedAt: T0 + 1 }),
        inStatus('in_progress', { queuedAt: T0 + 2 }),
        task({ orgId: ORG_B, queuedAt: T0 + 50 }),
      );
      await store.read(async (tx) => {
        expect(await tx.oldestQueuedAt(ORG_A)).toBe(T0 + 200);
        expect(await tx.oldestQueuedAt(ORG_B)).toBe(T0 + 50);
        expect(await tx.oldestQueuedAt('org_missing')).toBeNull();
      });
    });

    it('taskCensus: every org counted by status and type, with the oldest claimable time of queued groups', async () => {
      clock.set(T0 + 10_000);
      await store.read(async (tx) => expect(await tx.taskCensus()).toEqual([]));
      await insert(
        task({ queuedAt: T0 + 300 }),
        task({ orgId: ORG_B, queuedAt: T0 + 200 }),
        task({ queuedAt: T0 + 100, runAt: T0 + 20_000 }), // not claimable yet: counted, not oldest
        task({ queuedAt: T0 + 1, runAt: T0 + 400, archivedAt: T0 }), // claimable since its runAt
        task({ type: 'pdf.render', runAt: T0 + 20_000 }),
        inStatus('in_progress', { queuedAt: T0 + 2 }),
        inStatus('completed', { orgId: ORG_B, type: 'pdf.render' }),
      );
      const rows = await store.read((tx) => tx.taskCensus());
      const key = (r: { status: string; type: string }) => `${r.status} ${r.type}`;
      expect([...rows].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([
        { status: 'completed', type: 'pdf.render', count: 1, oldestClaimableAt: null },
        { status: 'in_progress', type: 'email.send', count: 1, oldestClaimableAt: null },
        { status: 'queued', type: 'email.send', count: 4, oldestClaimableAt: T0 + 200 },
        { status: 'queued', type: 'pdf.render', count: 1, oldestClaimableAt: null },
      ]);
    });

    it("oldestQueuedAt of one type: the same among that type's claimable queued tasks", async () => {
      clock.set(T0 + 10_000);
      await insert(
        task({ type: 'email.send', queuedAt: T0 + 300 }),
        task({ type: 'email.send', queuedAt: T0 + 400, priority: 9 }),
        task({ type: 'email.send', queuedAt: T0 + 100, runAt: T0 + 20_000 }), // not claimable yet
        task({ type: 'email.send', queuedAt: T0 + 900, runAt: T0 + 250 }), // claimable since its runAt
        task({ type: 'pdf.render', queuedAt: T0 + 50 }),
        inStatus('in_progress', { type: 'email.send', queuedAt: T0 + 1 }),
        task({ orgId: ORG_B, type: 'email.send', queuedAt: T0 + 10 }),
      );
      await store.read(async (tx) => {
        expect(await tx.oldestQueuedAt(ORG_A, 'email.send')).toBe(T0 + 250);
        expect(await tx.oldestQueuedAt(ORG_A, 'pdf.render')).toBe(T0 + 50);
        expect(await tx.oldestQueuedAt(ORG_A)).toBe(T0 + 50);
        expect(await tx.oldestQueuedAt(ORG_A, 'video.encode')).toBeNull();
        expect(await tx.oldestQueuedAt(ORG_B, 'email.send')).toBe(T0 + 10);
      });
    });

    it('completionsByMinute: completed and failed tasks of one type by the minute of completedAt, since a time', async () => {
      const M = 60_000;
      const at = (minute: number, second: number) => T0 + minute * M + second * 1000;
      await insert(
        inStatus('completed', { completedAt: at(0, 0) }),
        inStatus('completed', { completedAt: at(0, 59) }),
        inStatus('failed', { completedAt: at(0, 30) }),
        inStatus('completed', { completedAt: at(3, 1), archivedAt: at(4, 0) }), // archived still counts
        inStatus('failed', { completedAt: at(3, 59) }),
        inStatus('completed', { completedAt: at(2, 0) - 1 }), // the last millisecond of minute 1
        inStatus('completed', { completedAt: at(-1, 59) }), // before `since`
        inStatus('canceled', { completedAt: at(0, 10) }), // neither completed nor failed
        inStatus('completed', { type: 'pdf.render', completedAt: at(0, 10) }),
        inStatus('completed', { orgId: ORG_B, completedAt: at(0, 10) }),
        task({ type: 'email.send' }),
      );
      await store.read(async (tx) => {
        expect(await tx.completionsByMinute(ORG_A, 'email.send', T0)).toEqual([
          { minute: T0, completed: 2, failed: 1 },
          { minute: T0 + M, completed: 1, failed: 0 },
          { minute: T0 + 3 * M, completed: 1, failed: 1 },
        ]);
        expect(await tx.completionsByMinute(ORG_A, 'email.send', at(3, 30))).toEqual([
          { minute: T0 + 3 * M, completed: 0, failed: 1 },
        ]);
        expect(await tx.completionsByMinute(ORG_A, 'pdf.render', T0)).toEqual([
          { minute: T0, completed: 1, failed: 0 },
        ]);
        expect(await tx.completionsByMinute(ORG_B, 'email.send', T0)).toEqual([
          { minute: T0, completed: 1, failed: 0 },
        ]);
        expect(await tx.completionsByMinute(ORG_A, 'video.encode', T0)).toEqual([]);
        expect(await tx.completionsByMinute(ORG_A, 'email.send', at(5, 0))).toEqual([]);
      });
    });
  });
};
