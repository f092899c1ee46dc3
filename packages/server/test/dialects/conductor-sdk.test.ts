/**
 * The real Orkes Conductor SDK (@io-orkes/conductor-javascript, from npm, nothing patched or stubbed)
 * against a Tasklane server listening on a real port: configured only through CONDUCTOR_SERVER_URL,
 * CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET, its TaskHandler runs `worker`-registered functions that
 * poll, run and complete Tasklane tasks (including a retried failure, a terminal failure and an
 * IN_PROGRESS call-back), and its TaskClient reads them back.
 */
import {
  NonRetryableException,
  TaskClient,
  TaskHandler,
  clearWorkerRegistry,
  getTaskContext,
  orkesConductorClient,
  worker,
  type Task as ConductorTask,
} from '@io-orkes/conductor-javascript';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { until } from '../helpers/http-harness.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ENV = ['CONDUCTOR_SERVER_URL', 'CONDUCTOR_AUTH_KEY', 'CONDUCTOR_AUTH_SECRET'] as const;

let dir: string;
let server: RunningServer;
let adminKey: string;
const savedEnv = new Map<string, string | undefined>();

async function native<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-conductor-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }), {
    logger: false,
  });
  adminKey = server.rootKey ?? '';
  // A worker's key: read and work, nothing else. Its id and secret are Conductor's key id and secret.
  const key = await native<{ id: string; secret: string }>('POST', '/v1/keys', {
    name: 'conductor-worker',
    scopes: ['tasks:read', 'tasks:work'],
  });
  for (const name of ENV) savedEnv.set(name, process.env[name]);
  process.env.CONDUCTOR_SERVER_URL = `${server.url}/compat/conductor/api`;
  process.env.CONDUCTOR_AUTH_KEY = key.id;
  process.env.CONDUCTOR_AUTH_SECRET = key.secret;
});

afterAll(async () => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  clearWorkerRegistry();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a Conductor SDK worker polls, runs and completes Tasklane tasks; its task client reads them back', async () => {
  const create = async (type: string, input: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    (await native<{ id: string }>('POST', '/v1/tasks', { type, input, ...extra })).id;
  const now = { strategy: 'fixed', delayMs: 0, jitter: 'none' };
  const greetIds = [await create('sdk_greet', { name: 'Ada' }), await create('sdk_greet', { name: 'Grace' })];
  const flakyId = await create('sdk_flaky', {}, { retryPolicy: now });
  const brokenId = await create('sdk_broken', {});
  const laterId = await create('sdk_later', {});

  const runs = new Map<string, number>();
  const count = (task: ConductorTask) => {
    const n = (runs.get(task.taskId ?? '') ?? 0) + 1;
    runs.set(task.taskId ?? '', n);
    return n;
  };
  // `worker(options)` is the SDK's @worker decorator, applied here to plain functions (its legacy form).
  worker({ taskDefName: 'sdk_greet', pollInterval: 20, concurrency: 2 })(async (task: ConductorTask) => {
    count(task);
    getTaskContext()?.addLog(`greeting ${String(task.inputData?.name)}`);
    return { status: 'COMPLETED' as const, outputData: { greeting: `Hello ${String(task.inputData?.name)}` } };
  });
  worker({ taskDefName: 'sdk_flaky', pollInterval: 20 })(async (task: ConductorTask) => {
    if (count(task) === 1) throw new Error('upstream timed out');
    return { status: 'COMPLETED' as const, outputData: { attempt: task.retryCount } };
  });
  worker({ taskDefName: 'sdk_broken', pollInterval: 20 })(async (task: ConductorTask) => {
    count(task);
    throw new NonRetryableException('order not found');
  });
  worker({ taskDefName: 'sdk_later', pollInterval: 20 })(async (task: ConductorTask) => {
    if (count(task) === 1) {
      getTaskContext()?.addLog('not ready yet');
      return { status: 'IN_PROGRESS' as const, callbackAfterSeconds: 1 };
    }
    return { status: 'COMPLETED' as const, outputData: { ready: true } };
  });

  const client = await orkesConductorClient({ logger: quiet });
  const handler = new TaskHandler({ client, scanForDecorated: true, logger: quiet });
  await handler.startWorkers();
  try {
    const all = [...greetIds, flakyId, brokenId, laterId];
    await until(
      async () => {
        const tasks = await Promise.all(all.map((id) => native<{ status: string }>('GET', `/v1/tasks/${id}`)));
        return tasks.every((t) => t.status === 'completed' || t.status === 'failed');
      },
      'every task to finish',
      20_000,
    );
  } finally {
    await handler.stopWorkers();
  }

  const tasks = new TaskClient(client);
  for (const [i, id] of greetIds.entries()) {
    const t = await tasks.getTask(id);
    expect(t).toMatchObject({
      taskId: id,
      taskType: 'sdk_greet',
      status: 'COMPLETED',
      outputData: { greeting: `Hello ${['Ada', 'Grace'][i]}` },
    });
    expect((await tasks.getTaskLogs(id))?.map((l) => l.log)).toEqual([`greeting ${['Ada', 'Grace'][i]}`]);
  }
  expect(await tasks.getTask(flakyId)).toMatchObject({
    status: 'COMPLETED',
    retryCount: 1,
    outputData: { attempt: 1 },
  });
  expect(runs.get(flakyId)).toBe(2);
  const broken = await tasks.getTask(brokenId);
  expect(broken).toMatchObject({ status: 'FAILED_WITH_TERMINAL_ERROR', reasonForIncompletion: 'order not found' });
  expect(runs.get(brokenId)).toBe(1);
  expect((await tasks.getTaskLogs(brokenId))?.[0]?.log).toMatch(/^NonRetryableException: order not found/);
  expect(await tasks.getTask(laterId)).toMatchObject({ status: 'COMPLETED', outputData: { ready: true } });
  expect(runs.get(laterId)).toBe(2);
  expect((await tasks.getTaskLogs(laterId))?.map((l) => l.log)).toEqual(['not ready yet']);

  // The native view agrees: steps, results, errors.
  expect(await native('GET', `/v1/tasks/${brokenId}`)).toMatchObject({
    status: 'failed',
    error: { message: 'order not found', retryable: false },
  });
  expect(await native('GET', `/v1/tasks/${laterId}`)).toMatchObject({
    status: 'completed',
    attempt: 2,
    result: { ready: true },
  });
  // A worker's key may log only on a task a worker holds (adding a note elsewhere needs tasks:write).
  await expect(tasks.addTaskLog(greetIds[0] ?? '', 'checked by a person')).rejects.toThrow();
  client.stopBackgroundRefresh();
});
