/**
 * GET /metrics on both backends, read with a real Prometheus text parser: task counters move when
 * tasks move (each counted from the events its unit commits), durations are observed in the store's
 * clock, the storage gauges are read at most once per 5 s, task types past the first 200 fold into
 * `_other`, HTTP durations are labelled by route pattern, and the token and loopback rules hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { makeHarness, type Harness, type WireTask } from '../helpers/http-harness.js';
import { Scrape } from '../helpers/metrics-text.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';

const backends: Array<{ name: string; store?: (clock: Clock) => TaskStore }> = [{ name: 'sqlite' }];
const url = pgUrl();
if (url !== null) {
  const schemas = freshSchema('metrics');
  backends.push({
    name: 'postgres',
    store: (clock) => createPostgresStore({ url, schema: schemas.newSchema(), clock }),
  });
}

async function scrape(h: Harness, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  // The histograms' series as the registry holds them right after rendering (see Scrape).
  return new Scrape(res.body, await h.services.metrics.registry.getMetricsAsJSON());
}

describe.each(backends)('GET /metrics on $name', ({ store }) => {
  let h: Harness;
  let n = 0;
  /** A type no other test uses, so each test reads its own series. */
  const freshType = () => `metrics.t${++n}`;

  beforeAll(async () => {
    h = await makeHarness({ manualClock: true, ...(store === undefined ? {} : { store }) });
  });
  afterAll(() => h.cleanup());

  const claim = async (type: string, leaseMs = 30_000): Promise<{ task: WireTask; leaseId: string }> => {
    const res = await h.call(h.a.admin, 'POST', '/v1/tasks/claim', { types: [type], workerId: 'w-1', leaseMs });
    expect(res.statusCode, res.body).toBe(200);
    const [task] = res.json<{ tasks: Array<WireTask & { lease: { id: string } }> }>().tasks;
    if (task === undefined) throw new Error(`nothing of ${type} to claim`);
    return { task, leaseId: task.lease.id };
  };
  const report = async (taskId: string, action: 'complete' | 'fail', body: Record<string, unknown>) => {
    const res = await h.call(h.a.admin, 'POST', `/v1/tasks/${taskId}/${action}`, body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<WireTask>();
  };
  const act = async (taskId: string, action: string) => {
    const res = await h.call(h.a.admin, 'POST', `/v1/tasks/${taskId}/${action}`, {});
    expect(res.statusCode, res.body).toBe(200);
  };

  it('counts created, claimed and completed, with the wait and the run in the store clock', async () => {
    const type = freshType();
    const clock = h.manualClock!;
    const before = await scrape(h);
    expect(before.value('tasklane_tasks_created_total', { type })).toBe(0);
    const t = await h.createTask(h.a.admin, { type });
    clock.advance(2_000);
    const { leaseId } = await claim(type);
    clock.advance(3_000);
    await report(t.id, 'complete', { leaseId, result: 'ok' });

    const s = await scrape(h);
    expect(s.family('tasklane_tasks_created_total').type).toBe('COUNTER');
    expect(s.value('tasklane_tasks_created_total', { type })).toBe(1);
    expect(s.value('tasklane_tasks_claimed_total', { type })).toBe(1);
    expect(s.value('tasklane_tasks_completed_total', { type })).toBe(1);
    expect(s.value('tasklane_tasks_failed_total', { type })).toBe(0);
    expect(s.family('tasklane_task_queue_wait_seconds').type).toBe('HISTOGRAM');
    expect(s.count('tasklane_task_queue_wait_seconds', { type })).toBe(1);
    expect(s.sum('tasklane_task_queue_wait_seconds', { type })).toBe(2);
    expect(s.count('tasklane_task_run_seconds', { type })).toBe(1);
    expect(s.sum('tasklane_task_run_seconds', { type })).toBe(3);
  });

  it('measures the wait from when the task became claimable: a runAt that passed while it was blocked does not count', async () => {
    const type = freshType();
    const clock = h.manualClock!;
    const first = await h.createTask(h.a.admin, { type: `${type}.first` });
    const runAt = new Date(clock.now() + 60_000).toISOString();
    const t = await h.createTask(h.a.admin, { type, runAt, dependsOn: [first.id] });
    expect(t.status).toBe('blocked');
    clock.advance(3_600_000); // its runAt passes while it is blocked
    const { leaseId } = await claim(`${type}.first`);
    await report(first.id, 'complete', { leaseId, result: 'ok' }); // now it is queued, claimable at once
    clock.advance(1_000);
    await claim(type);
    const s = await scrape(h);
    expect(s.count('tasklane_task_queue_wait_seconds', { type })).toBe(1);
    expect(s.sum('tasklane_task_queue_wait_seconds', { type })).toBe(1);
  });

  it('counts a failed attempt queued again as retried, a last failure as failed, a retry and a cancel', async () => {
    const type = freshType();
    const t = await h.createTask(h.a.admin, { type, maxRetries: 1, retryPolicy: { strategy: 'fixed', delayMs: 0 } });
    let { leaseId } = await claim(type);
    expect((await report(t.id, 'fail', { leaseId, error: { message: 'first' } })).status).toBe('queued');
    ({ leaseId } = await claim(type));
    expect((await report(t.id, 'fail', { leaseId, error: { message: 'second' } })).status).toBe('failed');
    await act(t.id, 'retry');
    await act(t.id, 'cancel');
    // Created canceled, its dependency canceled already: counted too, though it changed no status.
    const dependent = await h.createTask(h.a.admin, { type, dependsOn: [t.id], onDependencyFailure: 'cancel' });
    expect(dependent.status).toBe('canceled');

    const s = await scrape(h);
    expect(s.value('tasklane_tasks_claimed_total', { type })).toBe(2);
    expect(s.value('tasklane_tasks_retried_total', { type })).toBe(2); // the queued failure, the person's retry
    expect(s.value('tasklane_tasks_failed_total', { type })).toBe(1);
    expect(s.value('tasklane_tasks_canceled_total', { type })).toBe(2);
    expect(s.value('tasklane_tasks_lease_expired_total', { type })).toBe(0);
    expect(s.count('tasklane_task_run_seconds', { type })).toBe(2);
  });

  it('counts a lease the sweeper found expired, and the retry it made', async () => {
    const type = freshType();
    await h.createTask(h.a.admin, { type, maxRetries: 3 });
    await claim(type, 1_000);
    h.manualClock!.advance(1_500);
    expect(await h.services.maintenance.sweepOnce()).toBeGreaterThanOrEqual(1);

    const s = await scrape(h);
    expect(s.value('tasklane_tasks_lease_expired_total', { type })).toBe(1);
    expect(s.value('tasklane_tasks_retried_total', { type })).toBe(1);
    expect(s.sum('tasklane_task_run_seconds', { type })).toBe(1.5);
  });

  it('gauges tasks by status and type and the oldest queued age, read from storage at most every 5 s', async () => {
    const type = freshType();
    const clock = h.manualClock!;
    clock.advance(10_000); // past any census an earlier test left cached
    await h.createTask(h.a.admin, { type });
    await h.createTask(h.b.admin, { type }); // every org is counted
    clock.advance(4_000);
    let s = await scrape(h);
    expect(s.family('tasklane_tasks').type).toBe('GAUGE');
    expect(s.value('tasklane_tasks', { status: 'queued', type })).toBe(2);
    expect(s.value('tasklane_queue_oldest_age_seconds', { type })).toBe(4);

    // Within 5 s the figures are the cached ones: storage is not read again.
    const t = await h.createTask(h.a.admin, { type });
    await act(t.id, 'cancel');
    clock.advance(4_999);
    s = await scrape(h);
    expect(s.value('tasklane_tasks', { status: 'queued', type })).toBe(2);
    expect(s.value('tasklane_tasks', { status: 'canceled', type })).toBe(0);
    expect(s.value('tasklane_queue_oldest_age_seconds', { type })).toBe(4);

    clock.advance(1);
    s = await scrape(h);
    expect(s.value('tasklane_tasks', { status: 'queued', type })).toBe(2);
    expect(s.value('tasklane_tasks', { status: 'canceled', type })).toBe(1);
    expect(s.value('tasklane_queue_oldest_age_seconds', { type })).toBe(9);
  });

  it('labels HTTP durations with the route pattern and the status class, never the raw URL', async () => {
    const t = await h.createTask(h.a.admin, { type: freshType() });
    await h.getTask(h.a.admin, t.id);
    await h.call(h.a.admin, 'GET', '/v1/tasks/01900000-0000-7000-8000-000000000000');
    await h.call(h.a.admin, 'GET', '/no/such/route');
    const s = await scrape(h);
    const name = 'tasklane_http_request_duration_seconds';
    expect(s.family(name).type).toBe('HISTOGRAM');
    const routes = new Set(s.histogramLabels(name).map((l) => l.route));
    expect(routes).toContain('/v1/tasks/:taskId');
    expect(routes).toContain('unmatched');
    expect([...routes].filter((r) => String(r).includes(t.id))).toEqual([]);
    expect(s.count(name, { method: 'GET', route: '/v1/tasks/:taskId', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(s.count(name, { method: 'GET', route: '/v1/tasks/:taskId', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(s.count(name, { method: 'POST', route: '/v1/tasks', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
  });

  it('counts storage errors, not domain errors, and shows the webhook and stream sources', async () => {
    let s = await scrape(h);
    const writesFailed = s.value('tasklane_storage_errors_total', { operation: 'write' });
    await h.call(h.a.admin, 'GET', '/v1/tasks/01900000-0000-7000-8000-000000000000'); // 404: the domain's
    h.failNextWrite(new Error('disk on fire'));
    expect((await h.call(h.a.admin, 'POST', '/v1/tasks', { type: freshType() })).statusCode).toBe(500);
    h.services.metrics.webhookAttempt('delivered');
    h.services.metrics.webhookAttempt('retried');
    h.services.metrics.webhookAttempt('retried');
    h.services.metrics.sources.webhookBacklog = async () => 7;

    s = await scrape(h);
    expect(s.value('tasklane_storage_errors_total', { operation: 'write' })).toBe(writesFailed + 1);
    expect(s.value('tasklane_storage_errors_total', { operation: 'read' })).toBe(0);
    expect(s.value('tasklane_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(s.value('tasklane_webhook_deliveries_total', { outcome: 'retried' })).toBe(2);
    expect(s.value('tasklane_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(s.value('tasklane_webhook_outbox_backlog')).toBe(7);
    expect(s.value('tasklane_event_streams_open')).toBe(h.services.events.openStreams);
    // The process metrics, under the same prefix.
    expect(s.value('tasklane_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    for (const name of s.families.keys()) expect(name).toMatch(/^tasklane_/);
  });
});

describe('GET /metrics: task types past the first 200 fold into _other', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness({ manualClock: true });
  });
  afterAll(() => h.cleanup());

  it('labels 200 types by name, every later one _other, in counters and gauges alike', async () => {
    const tasks = Array.from({ length: 205 }, (_, i) => ({ type: `fold.t${String(i).padStart(3, '0')}` }));
    const res = await h.call(h.a.admin, 'POST', '/v1/tasks/batch', { tasks });
    expect(res.statusCode, res.body).toBe(201);
    const s = await scrape(h);
    const created = s.samples('tasklane_tasks_created_total');
    expect(created).toHaveLength(201);
    expect(s.value('tasklane_tasks_created_total', { type: '_other' })).toBe(5);
    expect(s.value('tasklane_tasks_created_total', { type: 'fold.t000' })).toBe(1);
    expect(s.value('tasklane_tasks_created_total', { type: 'fold.t204' })).toBe(0);
    expect(s.samples('tasklane_tasks', { status: 'queued' })).toHaveLength(201);
    expect(s.value('tasklane_tasks', { status: 'queued', type: '_other' })).toBe(5);
  });
});

describe('GET /metrics: who may read it', () => {
  const TOKEN = 'metrics-token-0123456789';
  let open: Harness;
  let guarded: Harness;
  beforeAll(async () => {
    open = await makeHarness();
    guarded = await makeHarness({ metrics: { token: TOKEN } });
  });
  afterAll(async () => {
    await open.cleanup();
    await guarded.cleanup();
  });

  const get = (h: Harness, remoteAddress: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });

  it('without a token: loopback clients only, anyone else 403 FORBIDDEN', async () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect((await get(open, address)).statusCode, address).toBe(200);
    }
    for (const address of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', '2001:db8::1', '128.0.0.1']) {
      const res = await get(open, address, { 'x-forwarded-for': '127.0.0.1' });
      expect(res.statusCode, address).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json<{ code: string }>().code).toBe('FORBIDDEN');
    }
  });

  it('with a token: the bearer token from anywhere, else 401 UNAUTHORIZED (loopback included)', async () => {
    expect((await get(guarded, '10.0.0.1', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    expect((await get(guarded, '::1', { authorization: `bearer ${TOKEN}` })).statusCode).toBe(200);
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', TOKEN]) {
      const res = await get(guarded, '127.0.0.1', authorization === undefined ? {} : { authorization });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json<{ code: string }>().code).toBe('UNAUTHORIZED');
    }
    // An API key is no metrics token, however strong.
    const res = await get(guarded, '127.0.0.1', { authorization: `Bearer ${guarded.rootKey}` });
    expect(res.statusCode).toBe(401);
  });
});
