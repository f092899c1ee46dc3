/** Migrations, ping, orgs, and API keys: the contract of the records every request starts from. */
import { beforeEach, describe, expect, it } from 'vitest';
import { NO_ORG_DEFAULTS } from '../../../src/domain/org.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { byId, deferred, type StoreTopic } from './fixture.js';

export const orgsAndKeys: StoreTopic = (fx) => {
  const { task, insert, get, key } = fx;

  describe('migrate, ping, orgs', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('migrate() is idempotent: running it twice more keeps schema and data', async () => {
      await store.migrate();
      await store.migrate();
      const t = task();
      await insert(t);
      expect(await store.read((tx) => tx.countOrgs())).toBe(2);
      expect(await get(ORG_A, t.id)).toEqual(t);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('insertOrg, getOrg, countOrgs', async () => {
      await store.write((tx) => tx.insertOrg({ id: 'org_c', name: 'Org C', createdAt: T0 + 5 }));
      await store.read(async (tx) => {
        expect(await tx.getOrg('org_c')).toEqual({
          id: 'org_c',
          name: 'Org C',
          createdAt: T0 + 5,
          defaults: NO_ORG_DEFAULTS,
        });
        expect(await tx.getOrg(ORG_A)).toEqual({ id: ORG_A, name: 'Org A', createdAt: T0, defaults: NO_ORG_DEFAULTS });
        expect(await tx.getOrg('org_missing')).toBeNull();
        expect(await tx.countOrgs()).toBe(3);
      });
    });
  });

  describe('API keys', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('insertKey, findKeyByHash (across orgs), listKeys (one org)', async () => {
      const a1 = key(ORG_A, 'k1', { expiresAt: T0 + 86_400_000, scopes: ['admin'] });
      const a2 = key(ORG_A, 'k2', { createdAt: T0 + 10 });
      const b1 = key(ORG_B, 'k3');
      await store.write(async (tx) => {
        for (const k of [a1, a2, b1]) await tx.insertKey(k);
      });
      await store.read(async (tx) => {
        expect(await tx.findKeyByHash(a1.hash)).toEqual(a1);
        expect(await tx.findKeyByHash(b1.hash)).toEqual(b1);
        expect(await tx.findKeyByHash('f'.repeat(64))).toBeNull();
        expect(byId(await tx.listKeys(ORG_A))).toEqual([a1, a2]);
        expect(await tx.listKeys(ORG_B)).toEqual([b1]);
        expect(await tx.listKeys('org_missing')).toEqual([]);
      });
      // The store's own lookup (what authenticates every request) answers the same.
      expect(await store.findKeyByHash(a1.hash)).toEqual(a1);
      expect(await store.findKeyByHash(b1.hash)).toEqual(b1);
      expect(await store.findKeyByHash('f'.repeat(64))).toBeNull();
    });

    it('revokeKey: true once; false the second time, for another org, or an unknown key', async () => {
      const a1 = key(ORG_A, 'k1');
      const b1 = key(ORG_B, 'k2');
      await store.write(async (tx) => {
        await tx.insertKey(a1);
        await tx.insertKey(b1);
      });
      expect(await store.write((tx) => tx.revokeKey(ORG_B, a1.id, T0 + 50))).toBe(false);
      expect(await store.read((tx) => tx.findKeyByHash(a1.hash))).toEqual(a1);
      expect(await store.write((tx) => tx.revokeKey(ORG_A, a1.id, T0 + 100))).toBe(true);
      expect(await store.write((tx) => tx.revokeKey(ORG_A, a1.id, T0 + 200))).toBe(false);
      expect(await store.write((tx) => tx.revokeKey(ORG_A, 'k_missing', T0 + 200))).toBe(false);
      await store.read(async (tx) => {
        // Revoked or not, the lookup by hash finds it; the first revocation time stays.
        expect(await tx.findKeyByHash(a1.hash)).toEqual({ ...a1, revokedAt: T0 + 100 });
        expect(await tx.findKeyByHash(b1.hash)).toEqual(b1);
      });
      // store.findKeyByHash sees a committed revocation at once, and never one still open that
      // rolls back.
      expect(await store.findKeyByHash(a1.hash)).toEqual({ ...a1, revokedAt: T0 + 100 });
      const revoked = deferred();
      const hold = deferred();
      const unit = store.write(async (tx) => {
        await tx.revokeKey(ORG_B, b1.id, T0 + 300);
        revoked.resolve();
        await hold.promise;
        throw new Error('roll back');
      });
      await revoked.promise;
      // SQLite in memory shares one connection: the lookup waits for the unit instead.
      const during = store.findKeyByHash(b1.hash);
      hold.resolve();
      await expect(unit).rejects.toThrow('roll back');
      expect(await during).toEqual(b1);
      expect(await store.write((tx) => tx.revokeKey(ORG_B, b1.id, T0 + 400))).toBe(true);
      expect(await store.findKeyByHash(b1.hash)).toEqual({ ...b1, revokedAt: T0 + 400 });
    });
  });
};
