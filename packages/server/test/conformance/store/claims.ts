/**
 * Claiming: countInProgress, claimable (claim order, visibility, limits), the claim log,
 * nextRunAt.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { ids, type StoreTopic } from './fixture.js';

export const claims: StoreTopic = (fx) => {
  const { task, inStatus, insert } = fx;

  describe('claiming', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    beforeEach(() => {
      ({ store, clock } = fx);
    });

    it('countInProgress counts in-progress tasks of one type of one org', async () => {
      await insert(
        inStatus('in_progress'),
        inStatus('in_progress'),
        inStatus('in_progress', { type: 'pdf.render' }),
        inStatus('in_progress', { orgId: ORG_B }),
        inStatus('queued'),
        inStatus('needs_review'),
        inStatus('completed'),
      );
      await store.write(async (tx) => {
        expect(await tx.countInProgress(ORG_A, 'email.send')).toBe(2);
        expect(await tx.countInProgress(ORG_A, 'pdf.render')).toBe(1);
        expect(await tx.countInProgress(ORG_B, 'email.send')).toBe(1);
        expect(await tx.countInProgress(ORG_B, 'pdf.render')).toBe(0);
      });
    });

    it('claimable: priority descending, then coalesce(runAt, queuedAt), then id', async () => {
      clock.set(T0 + 10_000);
      const low = task({ priority: -1, queuedAt: T0 });
      const high = task({ priority: 5, queuedAt: T0 + 500 });
      const late = task({ queuedAt: T0 + 300 });
      const early = task({ queuedAt: T0 + 100 });
      // Queued first, but its runAt (a backoff) puts it after `late`.
      const backoff = task({ queuedAt: T0, runAt: T0 + 400 });
      // runAt earlier than queuedAt: runAt wins.
      const scheduled = task({ queuedAt: T0 + 200, runAt: T0 + 50 });
      const tieA = task({ queuedAt: T0 + 600 });
      const tieB = task({ queuedAt: T0 + 600 });
      // Inserted in a scrambled order: the store sorts, not the insertion.
      await insert(tieB, backoff, low, late, tieA, early, high, scheduled);
      const got = await store.write((tx) => tx.claimable(ORG_A, ['email.send'], 100));
      expect(ids(got)).toEqual(ids([high, scheduled, early, late, backoff, tieA, tieB, low]));
      expect(got[0]).toEqual(high);
    });

    it('claimable over several types: one claim order across them, limit applied to the whole', async () => {
      clock.set(T0 + 10_000);
      const a1 = task({ type: 'a', priority: 1, queuedAt: T0 + 300 });
      const b1 = task({ type: 'b', priority: 1, queuedAt: T0 + 100 });
      const a2 = task({ type: 'a', queuedAt: T0 + 50 });
      const b2 = task({ type: 'b', queuedAt: T0 + 60 });
      const c1 = task({ type: 'c', priority: 2, queuedAt: T0 + 900 });
      const a3 = task({ type: 'a', queuedAt: T0 + 70 });
      await insert(a1, b1, a2, b2, c1, a3);
      await store.write(async (tx) => {
        expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 10))).toEqual(ids([b1, a1, a2, b2, a3]));
        expect(ids(await tx.claimable(ORG_A, ['b', 'a', 'c'], 3))).toEqual(ids([c1, b1, a1]));
        expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 4))).toEqual(ids([b1, a1, a2, b2]));
        expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 1))).toEqual(ids([b1]));
      });
    });

    it('claimable with typeLimits: at most that many of a type, still one claim order across the types', async () => {
      clock.set(T0 + 10_000);
      const a1 = task({ type: 'a', priority: 1, queuedAt: T0 + 300 });
      const b1 = task({ type: 'b', priority: 1, queuedAt: T0 + 100 });
      const a2 = task({ type: 'a', queuedAt: T0 + 50 });
      const b2 = task({ type: 'b', queuedAt: T0 + 60 });
      const c1 = task({ type: 'c', priority: 2, queuedAt: T0 + 900 });
      const a3 = task({ type: 'a', queuedAt: T0 + 70 });
      await insert(a1, b1, a2, b2, c1, a3);
      const limits = (entries: Array<[string, number]>) => new Map(entries);
      await store.write(async (tx) => {
        // A limit above the whole `limit` changes nothing; a type the map does not name is capped by `limit`.
        expect(ids(await tx.claimable(ORG_A, ['a', 'b'], 10, limits([['a', 1]])))).toEqual(ids([b1, a1, b2]));
        expect(ids(await tx.claimable(ORG_A, ['a', 'b', 'c'], 4, limits([['c', 0]])))).toEqual(ids([b1, a1, a2, b2]));
        expect(
          ids(
            await tx.claimable(
              ORG_A,
              ['b', 'a'],
              3,
              limits([
                ['a', 2],
                ['b', 9],
              ]),
            ),
          ),
        ).toEqual(ids([b1, a1, a2]));
        expect(ids(await tx.claimable(ORG_A, ['a'], 5, limits([['a', 2]])))).toEqual(ids([a1, a2]));
        expect(await tx.claimable(ORG_A, ['a'], 5, limits([['a', 0]]))).toEqual([]);
      });
    });

    it('claimable: only queued tasks whose runAt is null or due, of the given types, of the org, at most limit', async () => {
      clock.set(T0 + 10_000);
      const due = task({ runAt: T0 + 10_000 });
      const past = task({ runAt: T0 + 5 });
      const now = task();
      const future = task({ runAt: T0 + 10_001 });
      const pdf = task({ type: 'pdf.render' });
      const other = task({ type: 'other' });
      const foreign = task({ orgId: ORG_B });
      const notQueued = (
        ['backlog', 'blocked', 'in_progress', 'needs_review', 'completed', 'failed', 'canceled'] as const
      ).map((s) => inStatus(s));
      await insert(due, past, now, future, pdf, other, foreign, ...notQueued);
      const claimable = (orgId: string, types: string[], limit = 100) =>
        store.write(async (tx) => ids(await tx.claimable(orgId, types, limit)).sort());

      expect(await claimable(ORG_A, ['email.send'])).toEqual(ids([due, past, now]).sort());
      expect(await claimable(ORG_A, ['email.send', 'pdf.render'])).toEqual(ids([due, past, now, pdf]).sort());
      expect(await claimable(ORG_A, ['pdf.render'])).toEqual([pdf.id]);
      expect(await claimable(ORG_A, ['nothing'])).toEqual([]);
      expect(await claimable(ORG_A, [])).toEqual([]);
      expect(await claimable(ORG_B, ['email.send'])).toEqual([foreign.id]);
      expect(await claimable(ORG_A, ['email.send', 'pdf.render'], 2)).toHaveLength(2);
      expect(await claimable(ORG_A, ['email.send'], 1)).toHaveLength(1);

      clock.set(T0 + 10_001);
      expect(await claimable(ORG_A, ['email.send'])).toEqual(ids([due, past, now, future]).sort());
    });

    it('recordClaims then countClaims: counts add up, since is inclusive, by type or all, one org', async () => {
      clock.set(T0 + 1_000);
      await store.write((tx) =>
        tx.recordClaims(ORG_A, [
          { type: 'email.send', count: 3 },
          { type: 'pdf.render', count: 1 },
        ]),
      );
      clock.set(T0 + 2_000);
      await store.write((tx) => tx.recordClaims(ORG_A, [{ type: 'email.send', count: 2 }]));
      await store.write((tx) => tx.recordClaims(ORG_B, [{ type: 'email.send', count: 7 }]));
      await store.write((tx) => tx.recordClaims(ORG_A, []));
      await store.read(async (tx) => {
        expect(await tx.countClaims(ORG_A, T0)).toBe(6);
        expect(await tx.countClaims(ORG_A, T0 + 1_000)).toBe(6);
        expect(await tx.countClaims(ORG_A, T0 + 1_001)).toBe(2);
        expect(await tx.countClaims(ORG_A, T0 + 2_000)).toBe(2);
        expect(await tx.countClaims(ORG_A, T0 + 2_001)).toBe(0);
        expect(await tx.countClaims(ORG_A, T0, 'email.send')).toBe(5);
        expect(await tx.countClaims(ORG_A, T0 + 1_001, 'email.send')).toBe(2);
        expect(await tx.countClaims(ORG_A, T0, 'pdf.render')).toBe(1);
        expect(await tx.countClaims(ORG_A, T0, 'other')).toBe(0);
        expect(await tx.countClaims(ORG_B, T0)).toBe(7);
        expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 1_001)).toBe(T0 + 2_000);
        expect(await tx.firstClaimSince(ORG_A, 'email.send', T0)).toBe(T0 + 1_000);
        expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 2_001)).toBeNull();
      });
    });

    it('a unit counts the claims it recorded itself, before and after more; type names of any text', async () => {
      clock.set(T0 + 1_000);
      const odd = "it's a \\ type";
      await store.write(async (tx) => {
        await tx.recordClaims(ORG_A, [{ type: odd, count: 2 }]);
        expect(await tx.countClaims(ORG_A, T0, odd)).toBe(2);
        await tx.recordClaims(ORG_A, [{ type: odd, count: 3 }]);
        await tx.recordClaims(ORG_B, [{ type: odd, count: 4 }]);
        expect(await tx.countClaims(ORG_A, T0, odd)).toBe(5);
        expect(await tx.firstClaimSince(ORG_A, odd, T0)).toBe(T0 + 1_000);
        await tx.recordClaims(ORG_A, [{ type: 'email.send', count: 1 }]);
      });
      await store.read(async (tx) => {
        expect(await tx.countClaims(ORG_A, T0, odd)).toBe(5);
        expect(await tx.countClaims(ORG_A, T0)).toBe(6);
        expect(await tx.countClaims(ORG_B, T0, odd)).toBe(4);
      });
    });

    it('nextRunAt: the earliest future runAt among queued tasks of the types, of the org', async () => {
      clock.set(T0 + 1_000);
      await insert(
        task({ runAt: T0 + 900 }), // due already: not waiting
        task({ runAt: T0 + 1_000 }), // due now: not waiting
        task({ runAt: T0 + 5_000 }),
        task({ runAt: T0 + 3_000 }),
        task({ runAt: null }),
        task({ type: 'pdf.render', runAt: T0 + 2_000 }),
        task({ orgId: ORG_B, runAt: T0 + 1_500 }),
        inStatus('backlog', { runAt: T0 + 1_100 }),
        inStatus('failed', { runAt: T0 + 1_200 }),
      );
      await store.read(async (tx) => {
        expect(await tx.nextRunAt(ORG_A, ['email.send'])).toBe(T0 + 3_000);
        expect(await tx.nextRunAt(ORG_A, ['email.send', 'pdf.render'])).toBe(T0 + 2_000);
        expect(await tx.nextRunAt(ORG_A, ['other'])).toBeNull();
        expect(await tx.nextRunAt(ORG_B, ['email.send'])).toBe(T0 + 1_500);
        expect(await tx.nextRunAt(ORG_B, ['pdf.render'])).toBeNull();
      });
      clock.set(T0 + 3_000);
      expect(await store.read((tx) => tx.nextRunAt(ORG_A, ['email.send']))).toBe(T0 + 5_000);
      clock.set(T0 + 5_000);
      expect(await store.read((tx) => tx.nextRunAt(ORG_A, ['email.send']))).toBeNull();
    });
  });
};
