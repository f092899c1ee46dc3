/** Idempotency records: what the first request with a key created. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyRecord, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, T0, uuidV7 } from '../../helpers/task-factory.js';
import type { StoreTopic } from './fixture.js';

export const idempotency: StoreTopic = (fx) => {
  describe('idempotency records', () => {
    let store!: TaskStore;
    beforeEach(() => {
      ({ store } = fx);
    });

    it('putIdempotency, getIdempotency honouring notBefore', async () => {
      const rec: IdempotencyRecord = {
        orgId: ORG_A,
        key: 'create-42',
        requestHash: 'a'.repeat(64),
        taskIds: [uuidV7(3), uuidV7(1), uuidV7(2)],
        createdAt: T0 + 1_000,
      };
      await store.write((tx) => tx.putIdempotency(rec));
      await store.read(async (tx) => {
        expect(await tx.getIdempotency(ORG_A, 'create-42', T0)).toEqual(rec);
        expect(await tx.getIdempotency(ORG_A, 'create-42', T0 + 1_000)).toEqual(rec);
        expect(await tx.getIdempotency(ORG_A, 'create-42', T0 + 1_001)).toBeNull();
        expect(await tx.getIdempotency(ORG_A, 'create-43', T0)).toBeNull();
      });
    });
  });
};
