/**
 * A worker process for the reliability tests: `createWorker` of the built SDK (imported from
 * TASKLANE_SDK_URL, packages/sdk/dist), configured by WORKER_OPTIONS (see WorkerProcessOptions).
 * The harness runs it as plain JS with its types stripped (`node --import tsx` works too). It speaks
 * to the test in JSON lines on stdout: `ready` once the loop runs; in `count` mode, `done` with
 * every task id its handler ran (its side effects) after SIGTERM stopped it; in `hold` mode, `held`
 * once `holdCount` handlers run, which then never finish (the test SIGKILLs the process).
 */
import type { Task } from '@tasklane/sdk';
import type { WorkerProcessOptions } from './harness.js';

const sdk = (await import(process.env.TASKLANE_SDK_URL ?? '@tasklane/sdk')) as typeof import('@tasklane/sdk');
const opts = JSON.parse(process.env.WORKER_OPTIONS ?? '') as WorkerProcessOptions;
const say = (event: string, data: object = {}, then?: () => void) =>
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`, then);

const handled: string[] = [];
const errors: string[] = [];
const held: Array<{ id: string; attempt: number; leaseExpiresAt: string | undefined }> = [];

const handler = async (task: Task): Promise<unknown> => {
  if (opts.mode === 'count') {
    handled.push(task.id);
    return { by: opts.workerId };
  }
  held.push({ id: task.id, attempt: task.attempt, leaseExpiresAt: task.lease?.expiresAt });
  if (held.length === opts.holdCount) say('held', { tasks: held });
  return new Promise(() => undefined);
};

const worker = sdk.createWorker({
  url: opts.url,
  key: opts.key,
  types: [opts.type],
  workerId: opts.workerId,
  concurrency: opts.concurrency,
  leaseMs: opts.leaseMs,
  waitMs: 1000,
  shutdownGraceMs: 5000,
  handleSignals: true,
  onError: (err) => errors.push(String(err)),
  handler,
});
say('ready');
await worker.done;
say('done', { handled, errors }, () => process.exit(0));
