/** GET /v1/types/{type}/throughput: finished tasks of a type per minute, from their completedAt. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
afterAll(() => h.cleanup());

interface Answer {
  type: string;
  buckets: Array<{ minute: string; completed: number; failed: number }>;
}

describe('GET /v1/types/{type}/throughput', () => {
  it('counts completions and failures per minute of completedAt, oldest minute first, the current last', async () => {
    const org = await h.newOrg();
    const clock = h.manualClock!;
    const finish = async (type: string, outcome: 'complete' | 'fail') => {
      const t = await h.createTask(org.admin, { type });
      await h.drive(org.orgId, t.id, { name: 'claim', leaseId: `l-${t.id}`, workerId: 'w', leaseMs: 60_000 });
      await h.drive(
        org.orgId,
        t.id,
        outcome === 'complete' ? { name: 'complete' } : { name: 'fail', error: { message: 'x' }, retryable: false },
      );
    };
    // 2026-01-01T00:00Z: two completed and one failed; three minutes later one more; another type.
    await finish('tp.a', 'complete');
    await finish('tp.a', 'complete');
    await finish('tp.a', 'fail');
    await finish('tp.b', 'complete');
    clock.advance(3 * 60_000 + 5_000);
    await finish('tp.a', 'complete');
    await h.createTask(org.admin, { type: 'tp.a' }); // queued: not counted

    const res = await h.call(org.admin, 'GET', '/v1/types/tp.a/throughput?minutes=5');
    expect(res.statusCode).toBe(200);
    const body = res.json<Answer>();
    expect(body.type).toBe('tp.a');
    expect(body.buckets).toEqual([
      { minute: '2025-12-31T23:59:00.000Z', completed: 0, failed: 0 },
      { minute: '2026-01-01T00:00:00.000Z', completed: 2, failed: 1 },
      { minute: '2026-01-01T00:01:00.000Z', completed: 0, failed: 0 },
      { minute: '2026-01-01T00:02:00.000Z', completed: 0, failed: 0 },
      { minute: '2026-01-01T00:03:00.000Z', completed: 1, failed: 0 },
    ]);
  });

  it('counts every finished task of the type, however many (no scan limit)', async () => {
    const org = await h.newOrg();
    // More than the 2,000 tasks the first version scanned at most.
    for (const size of [1000, 1000, 100]) {
      const batch = await h.call(org.admin, 'POST', '/v1/tasks/batch', {
        tasks: Array.from({ length: size }, () => ({ type: 'tp.many' })),
      });
      expect(batch.statusCode).toBe(201);
      for (const t of batch.json<{ tasks: Array<{ id: string }> }>().tasks) {
        await h.drive(org.orgId, t.id, { name: 'claim', leaseId: `l-${t.id}`, workerId: 'w', leaseMs: 60_000 });
        await h.drive(org.orgId, t.id, { name: 'complete' });
      }
    }
    const body = (await h.call(org.admin, 'GET', '/v1/types/tp.many/throughput?minutes=1')).json<Answer>();
    const minute = new Date(Math.floor(h.clock.now() / 60_000) * 60_000).toISOString();
    expect(body.buckets).toEqual([{ minute, completed: 2100, failed: 0 }]);
  });

  it('answers 60 minutes by default, zeros for a type with no tasks, and another org sees nothing', async () => {
    const org = await h.newOrg();
    const res = await h.call(org.admin, 'GET', '/v1/types/tp.a/throughput');
    const body = res.json<Answer>();
    expect(body.buckets).toHaveLength(60);
    expect(body.buckets.every((b) => b.completed === 0 && b.failed === 0)).toBe(true);
  });

  it('refuses minutes outside 1..1440 and unknown parameters (400); needs a key (401)', async () => {
    for (const q of ['minutes=0', 'minutes=1441', 'minutes=x', 'hours=1']) {
      expect((await h.call(h.a.admin, 'GET', `/v1/types/tp.a/throughput?${q}`)).statusCode).toBe(400);
    }
    expect((await h.call(null, 'GET', '/v1/types/tp.a/throughput')).statusCode).toBe(401);
  });
});
