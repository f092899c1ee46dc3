/**
 * Parent side of the worker child processes: start K of them for a backend, follow their counts
 * and probe pick-ups, stop them. Each child is a process of its own, as workers are in production.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { FromChild, Prepared, ToChild } from './e2e-types.js';
import { pidCpuSeconds } from './proc-cpu.js';

const CHILD = new URL('./e2e-worker-child.ts', import.meta.url);

export interface WorkerPool {
  pids: number[];
  /** Durably completed jobs, summed over the children, and when the last of them was reported. */
  completed(): { count: number; at: number };
  /** Handler executions, summed (exactly-once check). */
  handled(): number;
  /** The children's named counters, summed (as of their last progress message). */
  counters(): Record<string, number>;
  /** Resolves with the pick-up time of `probe` (hrNow clock). */
  probe(probe: number, timeoutMs: number): Promise<number>;
  /** Resolves when the completed count reaches `total` (with the time of that report). */
  untilCompleted(total: number, timeoutMs: number): Promise<number>;
  cpuSeconds(): number | null;
  stop(): Promise<void>;
}

/**
 * `profileDir`: each child writes a V8 CPU profile of its whole life there when it exits (startup
 * included, so read the functions, not the totals).
 */
export async function startWorkers(
  prepared: Prepared,
  count: number,
  concurrency: number,
  profileDir: string | null = null,
): Promise<WorkerPool> {
  const children: ChildProcess[] = [];
  const state = new Map<
    ChildProcess,
    { completed: number; handled: number; at: number; counters: Record<string, number> }
  >();
  const probes = new Map<number, number>();
  const probeWaiters = new Map<number, (at: number) => void>();
  let progressWaiter: (() => void) | null = null;
  let failure: Error | null = null;

  const total = () => {
    let c = 0;
    let at = 0;
    for (const s of state.values()) {
      c += s.completed;
      at = Math.max(at, s.at);
    }
    return { count: c, at };
  };

  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', ...(profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])],
      env: {
        ...process.env,
        ...prepared.workerEnv,
        BENCH_WORKER_MODULE: prepared.workerModule.href,
        BENCH_WORKER_CONFIG: JSON.stringify(prepared.workerConfig(i)),
        BENCH_WORKER_INDEX: String(i),
        BENCH_WORKER_CONCURRENCY: String(concurrency),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    state.set(child, { completed: 0, handled: 0, at: 0, counters: {} });
    ready.push(
      new Promise<void>((resolve, reject) => {
        child.on('message', (m: FromChild) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'progress') {
            state.set(child, { completed: m.completed, handled: m.handled, at: m.at, counters: m.counters });
            progressWaiter?.();
          } else if (m.type === 'probe') {
            probes.set(m.probe, m.at);
            probeWaiters.get(m.probe)?.(m.at);
          } else if (m.type === 'failed') {
            failure = new Error(`worker ${i}: ${m.message}`);
            reject(failure);
            progressWaiter?.();
          }
        });
        child.once('exit', (code) => {
          if (code !== 0 && code !== null) failure ??= new Error(`worker ${i} exited with code ${code}`);
          reject(failure ?? new Error(`worker ${i} exited`));
          progressWaiter?.();
        });
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    throw err;
  }

  return {
    pids: children.map((c) => c.pid as number),
    completed: total,
    handled: () => [...state.values()].reduce((s, x) => s + x.handled, 0),
    counters: () => {
      const sum: Record<string, number> = {};
      for (const s of state.values()) for (const [k, v] of Object.entries(s.counters)) sum[k] = (sum[k] ?? 0) + v;
      return sum;
    },
    probe: (probe, timeoutMs) => {
      const seen = probes.get(probe);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          probeWaiters.delete(probe);
          reject(new Error(`probe ${probe} was not picked up within ${timeoutMs} ms`));
        }, timeoutMs);
        probeWaiters.set(probe, (at) => {
          clearTimeout(timer);
          probeWaiters.delete(probe);
          resolve(at);
        });
      });
    },
    untilCompleted: async (target, timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (failure) throw failure;
        const t = total();
        if (t.count >= target) return t.at;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`only ${t.count} of ${target} jobs completed within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 1000));
          progressWaiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        progressWaiter = null;
      }
    },
    cpuSeconds: () => {
      let sum = 0;
      for (const c of children) {
        const s = pidCpuSeconds(c.pid as number);
        if (s === null) return null;
        sum += s;
      }
      return sum;
    },
    stop: async () => {
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
          c.send({ type: 'stop' } satisfies ToChild);
          const killer = setTimeout(() => c.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(killer);
        }),
      );
    },
  };
}
