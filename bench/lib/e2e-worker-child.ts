/**
 * A worker child process of the end-to-end benchmark: loads the backend module named in
 * BENCH_WORKER_MODULE, runs its `runWorker`, and tells the parent (IPC) when probes are picked up
 * and how many jobs are done. Started by `e2e-workers.ts`; not meant to be run by hand.
 */
import { hrNow, type FromChild, type RunWorker, type ToChild } from './e2e-types.js';

// Once the parent is gone there is nobody to tell (and sending would throw).
const send = (m: FromChild) => {
  if (process.connected) process.send?.(m);
};
if (process.send === undefined) throw new Error('Start this file through bench/e2e-throughput.ts (it needs IPC).');

const mod = (await import(process.env.BENCH_WORKER_MODULE as string)) as { runWorker: RunWorker };
let completed = 0;
let handled = 0;
let lastAt = 0;
const counters: Record<string, number> = {};
let scheduled = false;
// At most one progress message every PROGRESS_MS, carrying the time of the last change (so the
// parent's figures do not depend on when the message goes): IPC costs the worker process CPU,
// and one message per turn of the event loop cost more than the jobs themselves.
const PROGRESS_MS = 5;
const flush = () => {
  scheduled = false;
  send({ type: 'progress', completed, handled, at: lastAt, counters });
};
const changed = () => {
  lastAt = hrNow();
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, PROGRESS_MS);
  }
};

try {
  const worker = await mod.runWorker({
    config: JSON.parse(process.env.BENCH_WORKER_CONFIG ?? 'null'),
    index: Number(process.env.BENCH_WORKER_INDEX),
    concurrency: Number(process.env.BENCH_WORKER_CONCURRENCY),
    probe: (probe) => send({ type: 'probe', probe, at: hrNow() }),
    completed: (n) => {
      completed += n;
      changed();
    },
    handled: () => {
      handled++;
      changed();
    },
    count: (name, n) => {
      counters[name] = (counters[name] ?? 0) + n;
    },
  });
  process.on('message', (m: ToChild) => {
    if (m.type !== 'stop') return;
    void worker.stop().then(
      () => {
        flush();
        send({ type: 'stopped' });
        process.disconnect();
        // Libraries may keep sockets or timers alive after their own stop; we are done.
        setTimeout(() => process.exit(0), 200).unref();
      },
      (err: unknown) => {
        send({ type: 'failed', message: `stop: ${String(err)}` });
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => setTimeout(() => process.exit(0), 1000).unref());
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}
