/**
 * Two nodes on one PostgreSQL schema: a change is counted by the node whose unit committed it and
 * by no other, so summing the nodes counts each change once; the storage gauges, read from the
 * shared database, say the same on both.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import { createServices, type Services } from '../../src/service/services.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { makeHarness, type Harness, type WireTask } from '../helpers/http-harness.js';
import { Scrape } from '../helpers/metrics-text.js';
import { pgSuite } from '../helpers/pg.js';

pgSuite('metrics-nodes', (fresh) => {
  let a: Harness;
  let storeB: TaskStore;
  let servicesB: Services;
  let b: FastifyInstance;

  beforeAll(async () => {
    const schema = fresh.newSchema();
    let clock: Clock | null = null;
    a = await makeHarness({
      manualClock: true,
      store: (c) => {
        clock = c;
        return createPostgresStore({ url: fresh.url, schema, clock: c });
      },
    });
    storeB = createPostgresStore({ url: fresh.url, schema, clock: clock! });
    servicesB = createServices(storeB, { clock: clock! });
    b = await buildApp({ services: servicesB, rateLimit: 0 });
    await b.ready();
  });
  afterAll(async () => {
    await b.close();
    servicesB.events.close();
    await storeB.close();
    await a.cleanup();
  });

  const call = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${a.a.admin}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json<Record<string, unknown>>();
  };
  const scrape = async (app: FastifyInstance, services: Services) => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return new Scrape(res.body, await services.metrics.registry.getMetricsAsJSON());
  };

  it('a change through node B is counted by B only; the gauges agree', async () => {
    const type = 'nodes.job';
    const task = (await call(b, 'POST', '/v1/tasks', { type })) as unknown as WireTask;
    const claimed = await call(b, 'POST', '/v1/tasks/claim', { types: [type], workerId: 'w-b' });
    const [held] = claimed.tasks as Array<{ lease: { id: string } }>;
    a.manualClock!.advance(2_000);
    // Completed through node A.
    await call(a.app, 'POST', `/v1/tasks/${task.id}/complete`, { leaseId: held!.lease.id });

    const onA = await scrape(a.app, a.services);
    const onB = await scrape(b, servicesB);
    expect(onB.value('tasklane_tasks_created_total', { type })).toBe(1);
    expect(onA.value('tasklane_tasks_created_total', { type })).toBe(0);
    expect(onB.value('tasklane_tasks_claimed_total', { type })).toBe(1);
    expect(onA.value('tasklane_tasks_claimed_total', { type })).toBe(0);
    expect(onB.count('tasklane_task_queue_wait_seconds', { type })).toBe(1);
    expect(onA.count('tasklane_task_queue_wait_seconds', { type })).toBe(0);
    expect(onA.value('tasklane_tasks_completed_total', { type })).toBe(1);
    expect(onB.value('tasklane_tasks_completed_total', { type })).toBe(0);
    // The run is measured where it ended, from the claim made on the other node.
    expect(onA.sum('tasklane_task_run_seconds', { type })).toBe(2);
    expect(onB.count('tasklane_task_run_seconds', { type })).toBe(0);
    for (const s of [onA, onB]) expect(s.value('tasklane_tasks', { status: 'completed', type })).toBe(1);
  });
});
