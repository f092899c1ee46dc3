/**
 * Runs the benchmark in a scheduling group of its own with a raised priority, so that other work
 * on a shared machine disturbs the figures less.
 *
 * Linux with autogroup scheduling (the default on most distributions) shares CPU between
 * sessions first and only then by nice value inside a session, so `nice` on the processes alone
 * does nothing against a busy neighbour in another session. The benchmark therefore re-runs
 * itself as the leader of a new session (its own autogroup), and that child sets the group's nice
 * through /proc/self/autogroup. The servers it forks stay in the group. The caller's own
 * session (a terminal, say) is left as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';

const MARK = 'TASKLANE_BENCH_OWN_GROUP';

/**
 * In the parent: starts the child, waits, returns its exit code (the caller exits with it).
 * In the child, or when there is nothing to do: null (the caller carries on).
 */
export async function runInOwnSchedulingGroup(nice: number, log: (line: string) => void): Promise<number | null> {
  if (nice === 0 || !existsSync('/proc/self/autogroup')) return null;
  if (process.env[MARK] === '1') {
    try {
      writeFileSync('/proc/self/autogroup', String(nice));
    } catch {
      log(`  (could not set the scheduling group's nice to ${nice}: not root? Running at normal priority)`);
    }
    return null;
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  // The child left our process group, so a Ctrl-C in the terminal reaches only us: pass it on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}
