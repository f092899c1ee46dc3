/**
 * PostgreSQL unreachable without a word: the network drops everything but no connection is
 * closed (a partition, a frozen host), unlike faults.test.ts where connections are cut. SPEC §9:
 * a storage outage answers 503 STORAGE_UNAVAILABLE within 5 s, never a hang; SPEC §12: once the
 * database answers again the node serves by itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, pollUntil, stopAll } from '../reliability/harness.js';
import {
  call,
  describePg,
  expectStatus,
  fileSchema,
  round,
  startNode,
  testPgUrl,
  viaPort,
  type Answer,
  type PgNode,
  type WireTask,
} from './cluster.js';
import { TcpProxy } from './tcp-proxy.js';

const schema = fileSchema('silent');
const POOL = 4;
const OUTAGE_ANSWER_MS = 5000;
/** How long the test waits for an answer before it calls the request hung. */
const GIVE_UP_MS = 8000;

let proxy: TcpProxy;
let node: PgNode;

describePg('faults: PostgreSQL silent (packets dropped, connections left open)', () => {
  beforeAll(async () => {
    assertBuilt();
    const target = new URL(testPgUrl());
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    node = await startNode({ name: 'node-s', schema, pool: POOL, databaseUrl: viaPort(proxy.port) });
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await proxy?.close();
  });

  it('while PostgreSQL is silent every request answers 503 STORAGE_UNAVAILABLE within 5 s; after, the node serves again', async () => {
    const task = expectStatus(
      await call<WireTask>(node, 'POST', '/v1/tasks', { body: { type: 'silent' } }),
      201,
      'create',
    );
    // Mid-run: the pool holds open, idle connections when the database goes quiet.
    await Promise.all(Array.from({ length: 2 * POOL }, () => call(node, 'GET', `/v1/tasks/${task.id}`)));
    expect(proxy.connections).toBeGreaterThanOrEqual(POOL);

    proxy.freeze();
    const requests: Array<[string, Promise<Answer>]> = [
      ['GET /v1/tasks/{id}', call(node, 'GET', `/v1/tasks/${task.id}`, { timeoutMs: GIVE_UP_MS })],
      ['POST /v1/tasks', call(node, 'POST', '/v1/tasks', { body: { type: 'silent' }, timeoutMs: GIVE_UP_MS })],
      [
        'POST /v1/tasks/claim',
        call(node, 'POST', '/v1/tasks/claim', { body: { types: ['silent'], workerId: 'w' }, timeoutMs: GIVE_UP_MS }),
      ],
      ['GET /v1/tasks', call(node, 'GET', '/v1/tasks?limit=5', { timeoutMs: GIVE_UP_MS })],
      ['GET /readyz', call(node, 'GET', '/readyz', { timeoutMs: GIVE_UP_MS })],
    ];
    const answers = await Promise.all(requests.map(async ([what, p]) => ({ what, answer: await p })));

    proxy.thaw();
    const thawedAt = Date.now();
    const readyAfter = await pollUntil(
      'ready again',
      async () => ((await call(node, 'GET', '/readyz')).status === 200 ? Date.now() - thawedAt : undefined),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const after = await call<WireTask>(node, 'GET', `/v1/tasks/${task.id}`);

    const text = (a: Answer) =>
      a.status === 0 ? `no answer in ${GIVE_UP_MS} ms` : `${a.status} ${a.code ?? ''} in ${round(a.ms)} ms`;
    console.log(
      `[faults] PostgreSQL silent: ${answers.map((x) => `${x.what}: ${text(x.answer)}`).join('; ')}; ` +
        `after: /readyz 200 ${readyAfter} ms after, GET ${after.status}`,
    );
    expect(after.status).toBe(200);
    const late = answers.filter(
      (x) =>
        x.answer.status !== 503 ||
        x.answer.ms >= OUTAGE_ANSWER_MS ||
        (x.what !== 'GET /readyz' && x.answer.code !== 'STORAGE_UNAVAILABLE'),
    );
    expect(late.map((x) => `${x.what}: ${text(x.answer)}`)).toEqual([]);
  }, 60_000);
});
