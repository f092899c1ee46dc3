/**
 * Options of `e2e-throughput.ts`: each from `--name=value`, else the environment variable NAME,
 * else its default (the same rules as `options.ts` of get-task.ts).
 */
import type { PgBossSetting } from '../peers/pg-boss.js';
import { kebab, readFlags } from './options.js';

export const ALL_BACKENDS = ['sqlite', 'pg1', 'pg2', 'pg3', 'graphile', 'pgboss', 'bullmq'] as const;
export type BackendId = (typeof ALL_BACKENDS)[number];

export interface E2eOptions {
  /** No-op tasks in the measured run of each system. */
  tasks: number;
  backends: BackendId[];
  /** Worker processes per system. */
  workers: number;
  /** Jobs one worker process runs at once (Tasklane, BullMQ); the peers map it to their knobs. */
  concurrency: number;
  /** Concurrent enqueue streams (each sends its batches one after another). */
  creators: number;
  /** Jobs run through each system before anything is measured (JIT, pools, caches). */
  warmup: number;
  /**
   * Jobs then added one at a time, back to back, before the pick-up samples: the single-add path
   * the samples take (a route, a statement, a script of its own in each system) gets its JIT and
   * caches warm too, not only the batch path.
   */
  warmupSingles: number;
  /** Create-to-pick-up samples for a waiting worker, one job at a time. */
  samples: number;
  /**
   * pg-boss settings (polling loops × batch per worker process), each measured as a row of its
   * own; "vs pg-boss" compares against the best of them (pg-boss either reaches a setting's bound
   * or collapses, and which one moves from run to run).
   */
  pgbossSettings: PgBossSetting[];
  pg: string;
  redis: string;
  /** Write a CPU profile of each Tasklane server node and summarize it. */
  profile: boolean;
  /**
   * Route PostgreSQL connections through a counting proxy and report round trips and statements
   * per job. The proxy slows every round trip: use it for the counts, not for the speed.
   */
  countQueries: boolean;
  nice: number;
  /** Before each measured run, wait up to this many seconds for other processes to go quiet. */
  quietWait: number;
}

const DEFAULTS: E2eOptions = {
  tasks: 20_000,
  backends: [...ALL_BACKENDS],
  workers: 3,
  concurrency: 100,
  creators: 2,
  warmup: 2_000,
  warmupSingles: 300,
  samples: 50,
  pgbossSettings: [
    // Caps (loops × batch × 3 processes / 0.5 s) of 6,000 to 9,600 jobs/s: on a fast day pg-boss
    // reaches 9,000 at 2 × 800, which a list of lower caps alone would not show.
    { pollers: 2, batch: 500 },
    { pollers: 1, batch: 800 },
    { pollers: 2, batch: 700 },
    { pollers: 2, batch: 800 },
  ],
  pg: 'postgres://postgres@127.0.0.1:5432',
  redis: 'redis://127.0.0.1:6379',
  profile: false,
  countQueries: false,
  nice: -10,
  quietWait: 30,
};

export function readE2eOptions(argv: readonly string[], env: NodeJS.ProcessEnv): E2eOptions {
  const flags = readFlags(argv);
  const known = new Set(Object.keys(DEFAULTS).map(kebab));
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`Unknown option --${name}.`);
  const raw = (name: keyof E2eOptions): string | undefined =>
    flags.get(kebab(name)) ?? env[kebab(name).replace(/-/g, '_').toUpperCase()];
  const int = (name: keyof E2eOptions, min: number): number => {
    const given = raw(name);
    if (given === undefined || given === '') return DEFAULTS[name] as number;
    const n = Number(given);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${given}'.`);
    return n;
  };
  const backends = (raw('backends') ?? '').split(',').filter((b) => b !== '');
  for (const b of backends) {
    if (!(ALL_BACKENDS as readonly string[]).includes(b))
      throw new Error(`Unknown backend '${b}'; choose from ${ALL_BACKENDS.join(',')}.`);
  }
  return {
    tasks: int('tasks', 1),
    backends: backends.length === 0 ? DEFAULTS.backends : (backends as BackendId[]),
    workers: int('workers', 1),
    concurrency: int('concurrency', 1),
    creators: int('creators', 1),
    warmup: int('warmup', 0),
    warmupSingles: int('warmupSingles', 0),
    samples: int('samples', 0),
    pgbossSettings: pgbossSettings(raw('pgbossSettings')),
    pg: (raw('pg') ?? DEFAULTS.pg).replace(/\/+$/, ''),
    redis: raw('redis') ?? DEFAULTS.redis,
    profile: ['1', 'true', 'yes'].includes(raw('profile') ?? ''),
    countQueries: ['1', 'true', 'yes'].includes(raw('countQueries') ?? ''),
    nice: int('nice', -20),
    quietWait: int('quietWait', 0),
  };
}

/** `2x500,1x800`: polling loops × batch per process, each a positive integer. */
function pgbossSettings(given: string | undefined): PgBossSetting[] {
  if (given === undefined || given === '') return DEFAULTS.pgbossSettings;
  return given.split(',').map((item) => {
    const m = /^(\d+)x(\d+)$/.exec(item.trim());
    const pollers = Number(m?.[1]);
    const batch = Number(m?.[2]);
    if (m === null || pollers < 1 || batch < 1)
      throw new Error(`pgboss-settings: '${item}' is not LOOPSxBATCH, e.g. 2x500.`);
    return { pollers, batch };
  });
}
