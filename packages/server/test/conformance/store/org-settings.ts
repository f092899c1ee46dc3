/**
 * An org's settings (its name and the defaults of its new tasks) and its lock: lockOrg serializes
 * the units of one org, and what a unit reads after it is what the unit it waited for committed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { NO_ORG_DEFAULTS, type Org } from '../../../src/domain/org.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { deferred, type StoreTopic } from './fixture.js';

export const orgSettings: StoreTopic = (fx) => {
  const { key } = fx;

  describe('org settings', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    const orgA = (): Promise<Org | null> => store.read((tx) => tx.getOrg(ORG_A));

    it('an org inserted without defaults has none of its own; one inserted with them keeps them', async () => {
      expect(await orgA()).toEqual({ id: ORG_A, name: 'Org A', createdAt: T0, defaults: NO_ORG_DEFAULTS });
      const c: Org = {
        id: 'org_c',
        name: 'C',
        createdAt: T0 + 2,
        defaults: { maxRetries: 0, ttlSeconds: 315_360_000 },
      };
      await store.write((tx) => tx.insertOrg(c));
      expect(await store.read((tx) => tx.getOrg('org_c'))).toEqual(c);
    });

    it('updateOrg writes the name and both defaults, nulls included, of that org only', async () => {
      const before = await orgA();
      if (before === null) throw new Error('org A missing');
      const set: Org = { ...before, name: 'Renamed', defaults: { maxRetries: 7, ttlSeconds: 3600 } };
      expect(await store.write((tx) => tx.updateOrg(set))).toBe(true);
      expect(await orgA()).toEqual(set);
      expect(await store.read((tx) => tx.getOrg(ORG_B))).toMatchObject({ name: 'Org B', defaults: NO_ORG_DEFAULTS });

      const back: Org = { ...set, defaults: { maxRetries: null, ttlSeconds: 60 } };
      expect(await store.write((tx) => tx.updateOrg(back))).toBe(true);
      expect(await orgA()).toEqual(back);
      // The creation time is not the caller's to change.
      await store.write((tx) => tx.updateOrg({ ...back, createdAt: T0 + 999 }));
      expect((await orgA())?.createdAt).toBe(T0);
    });

    it('updateOrg of an unknown org writes nothing and answers false', async () => {
      const ghost: Org = { id: 'org_ghost', name: 'G', createdAt: T0, defaults: NO_ORG_DEFAULTS };
      expect(await store.write((tx) => tx.updateOrg(ghost))).toBe(false);
      expect(await store.read((tx) => tx.getOrg('org_ghost'))).toBeNull();
    });

    it('lockOrg answers the org like getOrg, or null', async () => {
      await store.write(async (tx) => {
        expect(await tx.lockOrg(ORG_A)).toEqual(await tx.getOrg(ORG_A));
        expect(await tx.lockOrg('org_missing')).toBeNull();
      });
    });

    it('lockOrg waits for the unit holding it, then sees what that unit committed', async () => {
      const k1 = key(ORG_A, 'k1', { scopes: ['admin'] });
      const k2 = key(ORG_A, 'k2', { scopes: ['admin'] });
      await store.write(async (tx) => {
        await tx.insertKey(k1);
        await tx.insertKey(k2);
      });
      const locked = deferred();
      const release = deferred();
      const first = store.write(async (tx) => {
        await tx.lockOrg(ORG_A);
        locked.resolve();
        await release.promise;
        return tx.revokeKey(ORG_A, k1.id, T0 + 10);
      });
      await locked.promise;
      let passed = false;
      const second = store.write(async (tx) => {
        await tx.lockOrg(ORG_A);
        passed = true;
        return (await tx.listKeys(ORG_A)).filter((k) => k.revokedAt === null).map((k) => k.id);
      });
      // The second unit cannot pass the lock while the first holds it: give it every chance to.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(passed).toBe(false);
      release.resolve();
      expect(await first).toBe(true);
      expect(await second).toEqual([k2.id]);
    });
  });
};
