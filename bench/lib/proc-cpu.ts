/**
 * CPU time of processes the benchmark did not fork itself but needs to account for: PostgreSQL
 * backends serving one database, and the Redis server. Read from /proc (Linux); null elsewhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second, for /proc's CPU times. */
export const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of one process (all threads), or null if it is gone. */
export function pidCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/** Pids whose command line (NULs as spaces) passes `test`. */
export function pidsWhere(test: (cmdline: string) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (test(cmd)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU of a changing set of processes: `sample()` re-lists them and adds what each used since it
 * was last seen (a process seen once and gone by the next sample loses what it used in between;
 * connection pools keep their backends, so that is little). Returns the running total.
 */
export function cpuOfProcesses(list: () => number[]): { sample(): number | null } {
  const last = new Map<number, number>();
  let total = 0;
  let any = false;
  const sample = () => {
    for (const pid of list()) {
      const now = pidCpuSeconds(pid);
      if (now === null) continue;
      any = true;
      const before = last.get(pid);
      // First sight: counted from here on (what it used before the run is not ours).
      if (before !== undefined) total += now - before;
      last.set(pid, now);
    }
    return any ? total : null;
  };
  sample();
  return { sample };
}

/**
 * The PostgreSQL backends connected to `database`. Their title is `postgres: [CLUSTER: ]USER DB
 * HOST(PORT) STATE`, e.g. `postgres: 15/main: postgres mydb 127.0.0.1(5432) idle`.
 */
export function postgresBackendsOf(database: string): () => number[] {
  const title = /^postgres: (?:\S+: )?\S+ (\S+) /;
  return () => pidsWhere((cmd) => title.exec(cmd)?.[1] === database);
}

/** The Redis server process(es). */
export const redisServers = (): number[] => pidsWhere((cmd) => /^\S*redis-server /.test(cmd));
