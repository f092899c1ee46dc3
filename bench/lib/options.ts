/**
 * Benchmark options: each one from `--name=value`, else the environment variable NAME, else its
 * default. Numbers are checked once here so a typo fails before minutes of seeding.
 */
export interface GetTaskOptions {
  /** Tasks seeded before measuring. */
  tasks: number;
  connections: number;
  /** Seconds of each measured run. */
  duration: number;
  /** Seconds of load on each target before the measured runs (not recorded). */
  warmup: number;
  /** Measured runs per target, in ABBA order (Tasklane, bare, bare, Tasklane, …). */
  rounds: number;
  /** How many distinct task ids the GETs rotate over; 0 = every seeded task, 1 = one hot row. */
  ids: number;
  /** Write a V8 CPU profile of the Tasklane server process (`--cpu-prof`). */
  profile: boolean;
  /** Nice value of the benchmark's own scheduling group (load generator and servers); 0 leaves it be. */
  nice: number;
  /** Before each measured run, wait up to this many seconds for other processes to go quiet (0: don't). */
  quietWait: number;
  /** The Tasklane server's log level (`silent` measures the route, `info` adds a log line per request). */
  logLevel: string;
}

const DEFAULTS: GetTaskOptions = {
  tasks: 100_000,
  connections: 50,
  duration: 10,
  warmup: 3,
  rounds: 2,
  ids: 0,
  profile: false,
  nice: -10,
  quietWait: 60,
  logLevel: 'silent',
};

/** `fooBar` → `foo-bar`: an option's flag name (its environment variable is FOO_BAR). */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--name=value` (or `--name`, meaning true) flags; anything else is refused. */
export function readFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new Error(`Unknown argument '${arg}'; use --name=value (see bench/README.md).`);
    flags.set(m[1] as string, m[2] ?? 'true');
  }
  return flags;
}

export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): GetTaskOptions {
  const flags = readFlags(argv);
  const raw = (name: keyof GetTaskOptions): string | undefined =>
    flags.get(kebab(name)) ?? env[kebab(name).replace(/-/g, '_').toUpperCase()];
  const int = (name: keyof GetTaskOptions, min: number): number => {
    const given = raw(name);
    if (given === undefined || given === '') return DEFAULTS[name] as number;
    const n = Number(given);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${given}'.`);
    return n;
  };
  const opts: GetTaskOptions = {
    tasks: int('tasks', 1),
    connections: int('connections', 1),
    duration: int('duration', 1),
    warmup: int('warmup', 0),
    rounds: int('rounds', 1),
    ids: int('ids', 0),
    profile: ['1', 'true', 'yes'].includes(raw('profile') ?? ''),
    nice: int('nice', -20),
    quietWait: int('quietWait', 0),
    logLevel: raw('logLevel') ?? DEFAULTS.logLevel,
  };
  const known = new Set(Object.keys(DEFAULTS).map(kebab));
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`Unknown option --${name}.`);
  return opts;
}
