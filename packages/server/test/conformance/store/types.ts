/** Type settings: a type's concurrency, rate limit and defaults, and the lock claims take on it. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0 } from '../../helpers/task-factory.js';
import { deferred, type StoreTopic } from './fixture.js';

export const typeSettings: StoreTopic = (fx) => {
  const { typeConfig } = fx;

  describe('type settings', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('putTypeConfig then getTypeConfig and listTypeConfigs return every field; put replaces', async () => {
      const full = typeConfig(ORG_A, 'email.send', {
        concurrency: 4,
        rateLimit: { count: 10, perMs: 60_000 },
        defaults: {
          maxRetries: 7,
          retryPolicy: { strategy: 'linear', delayMs: 250 },
          leaseMs: 45_000,
          timeoutMs: 90_000,
          priority: -5,
        },
        updatedAt: T0 + 5,
      });
      const bare = typeConfig(ORG_A, 'pdf.render');
      const foreign = typeConfig(ORG_B, 'email.send', { concurrency: 1 });
      await store.write(async (tx) => {
        for (const c of [full, bare, foreign]) await tx.putTypeConfig(c);
      });
      await store.read(async (tx) => {
        expect(await tx.getTypeConfig(ORG_A, 'email.send')).toEqual(full);
        expect(await tx.getTypeConfig(ORG_A, 'pdf.render')).toEqual(bare);
        expect(await tx.getTypeConfig(ORG_B, 'email.send')).toEqual(foreign);
        expect(await tx.getTypeConfig(ORG_A, 'nope')).toBeNull();
        expect(await tx.getTypeConfig(ORG_B, 'pdf.render')).toBeNull();
        const listed = (await tx.listTypeConfigs(ORG_A)).sort((a, b) => a.type.localeCompare(b.type));
        expect(listed).toEqual([full, bare]);
        expect(await tx.listTypeConfigs(ORG_B)).toEqual([foreign]);
        expect(await tx.listTypeConfigs('org_missing')).toEqual([]);
      });

      const replaced = typeConfig(ORG_A, 'email.send', { concurrency: null, updatedAt: T0 + 9 });
      await store.write((tx) => tx.putTypeConfig(replaced));
      expect(await store.read((tx) => tx.getTypeConfig(ORG_A, 'email.send'))).toEqual(replaced);
      expect(await store.read((tx) => tx.listTypeConfigs(ORG_A))).toHaveLength(2);
      expect(await store.read((tx) => tx.getTypeConfig(ORG_B, 'email.send'))).toEqual(foreign);
    });

    it('lockType reads like getTypeConfig (null when the type has no settings)', async () => {
      const c = typeConfig(ORG_A, 'email.send', { concurrency: 2 });
      await store.write((tx) => tx.putTypeConfig(c));
      await store.write(async (tx) => {
        expect(await tx.lockType(ORG_A, 'email.send')).toEqual(c);
        expect(await tx.lockType(ORG_B, 'email.send')).toBeNull();
        expect(await tx.lockType(ORG_A, 'other')).toBeNull();
      });
    });

    it('lockType serializes units: a second unit does not pass it until the first ends', async () => {
      const log: string[] = [];
      const locked = deferred();
      const gate = deferred();
      const first = store.write(async (tx) => {
        await tx.lockType(ORG_A, 'email.send');
        log.push('first locked');
        locked.resolve();
        await gate.promise;
        log.push('first ends');
      });
      await locked.promise;
      const second = store.write(async (tx) => {
        await tx.lockType(ORG_A, 'email.send');
        log.push('second locked');
      });
      // Give the second unit every chance to run ahead before the first is let go.
      await new Promise((resolve) => setTimeout(resolve, 20));
      gate.resolve();
      await Promise.all([first, second]);
      expect(log).toEqual(['first locked', 'first ends', 'second locked']);
    });
  });
};
