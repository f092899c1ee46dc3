/**
 * Whole-machine CPU use from /proc/stat (Linux), to tell how much of a run's CPU went to processes
 * other than the benchmark's own. On a shared 2-core box that is what makes a figure trustworthy
 * or not, so each run records it and waits for a quiet machine before starting.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { clockTicks } from './proc-cpu.js';

export interface CpuSnapshot {
  busy: number;
  steal: number;
  at: number;
}

export function machineCpu(): CpuSnapshot | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal …
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
    return { busy: busy / clockTicks, steal: (steal ?? 0) / clockTicks, at: performance.now() };
  } catch {
    return null;
  }
}

/** Cores busy (and stolen by the hypervisor) between two snapshots. */
export function coresBetween(a: CpuSnapshot | null, b: CpuSnapshot | null): { busy: number; steal: number } | null {
  if (a === null || b === null) return null;
  const seconds = (b.at - a.at) / 1000;
  return { busy: (b.busy - a.busy) / seconds, steal: (b.steal - a.steal) / seconds };
}

/**
 * Waits until the machine has been nearly idle (< `threshold` cores busy) for one second, at most
 * `maxSeconds`; our own servers are idle at that moment, so what is busy is someone else.
 * Returns the busy cores of the last second.
 */
export async function waitForQuiet(
  threshold: number,
  maxSeconds: number,
  log: (line: string) => void,
): Promise<number | null> {
  const deadline = performance.now() + maxSeconds * 1000;
  let warned = false;
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const c = coresBetween(a, machineCpu());
    if (c === null || c.busy < threshold) return c?.busy ?? null;
    if (performance.now() > deadline) {
      log(
        `  machine still busy (${c.busy.toFixed(2)} of ${os.availableParallelism()} cores used by other processes); measuring anyway`,
      );
      return c.busy;
    }
    if (!warned)
      log(`  other processes use ${c.busy.toFixed(2)} cores; waiting for a quiet machine (at most ${maxSeconds} s) …`);
    warned = true;
  }
}
