/** close: afterwards every call rejects, and never by throwing synchronously. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../../src/storage/task-store.js';
import type { StoreTopic } from './fixture.js';

export const close: StoreTopic = (fx) => {
  describe('close', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('after close(), every call rejects', async () => {
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.read((tx) => tx.countOrgs()),
        () => store.write((tx) => tx.countOrgs()),
        () => store.ping(),
        () => store.migrate(),
      ];
      for (const call of calls) {
        // Wrapped so that a synchronous throw also counts as a rejection here (see the next test).
        await expect(Promise.resolve().then(call)).rejects.toThrow();
      }
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    });

    it('after close(), read() and write() return a rejected promise instead of throwing synchronously', async () => {
      await store.close();
      const outcome = (call: () => Promise<unknown>): Promise<string> => {
        let promise: Promise<unknown>;
        try {
          promise = call();
        } catch {
          return Promise.resolve('threw synchronously');
        }
        return promise.then(
          () => 'resolved',
          () => 'rejected',
        );
      };
      expect(await outcome(() => store.read((tx) => tx.countOrgs()))).toBe('rejected');
      expect(await outcome(() => store.write((tx) => tx.countOrgs()))).toBe('rejected');
      expect(await outcome(() => store.ping())).toBe('rejected');
    });
  });
};
