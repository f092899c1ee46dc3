/**
 * What every command that talks to a server shares: the --url/--key/--json flags and their
 * environment variables, usage errors (exit 2), and API errors turned into one line (exit 1).
 */
import { TasklaneApiError, TasklaneClient, TasklaneConnectionError } from '@tasklane/sdk';
import { CliError } from './cli-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Spread into each client command's parseArgs options. */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CLIENT_HELP = `Connection:
  --url URL    server (TASKLANE_URL, default ${DEFAULT_URL})
  --key KEY    API key (TASKLANE_KEY)
  --json       print the raw JSON answer
  -h, --help   this help`;

/** Runs a parseArgs call; its errors (unknown flag, missing value, stray argument) are usage errors. */
export function parseOrUsage<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      throw usageError(command, err.message);
    }
    throw err;
  }
}

export function usageError(command: string, message: string): CliError {
  return new CliError(`${command}: ${message} (see 'tasklane ${command} --help')`, 2);
}

/** The SDK client from --url/--key, else TASKLANE_URL/TASKLANE_KEY (empty counts as unset). */
export function connect(
  command: string,
  flags: { url?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): TasklaneClient {
  const url = flags.url ?? nonEmpty(env.TASKLANE_URL) ?? DEFAULT_URL;
  const key = flags.key ?? nonEmpty(env.TASKLANE_KEY);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw usageError(command, `--url must be an http(s) URL, got '${url}'`);
  }
  if (key === undefined || key === '') throw usageError(command, 'no API key: pass --key or set TASKLANE_KEY');
  return new TasklaneClient({ url, key });
}

/** Runs the API calls of a command; a problem answer or an unreachable server becomes one line, exit 1. */
export async function withApiErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TasklaneApiError) {
      const request = err.requestId === null ? '' : ` (request ${err.requestId})`;
      throw new CliError(`${err.code}: ${err.detail}${request}`, 1);
    }
    if (err instanceof TasklaneConnectionError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** An integer flag; anything else is a usage error. Ranges are the server's to check. */
export function integerFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d{1,15}$/.test(value.trim())) throw usageError(command, `--${name} must be an integer, got '${value}'`);
  return Number(value);
}

/** A flag that must be one of `allowed`. */
export function oneOf<T extends string>(command: string, name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw usageError(command, `--${name} must be one of ${allowed.join(', ')}; got '${value}'`);
  }
  return value as T;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/**
 * Runs the subcommand `argv[0]` of a command group (`tasklane keys create …`): no subcommand prints
 * the group's help and exits 2, `help`/`-h`/`--help` prints it and exits 0, an unknown one is a
 * usage error.
 */
export function dispatch(
  group: string,
  help: string,
  subcommands: Record<string, (argv: string[]) => Promise<number>>,
  argv: string[],
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '-h' || sub === '--help') {
    process.stdout.write(`${help}\n`);
    return Promise.resolve(sub === undefined ? 2 : 0);
  }
  const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
  if (run === undefined) throw usageError(group, `unknown command '${sub}'`);
  return run(rest);
}
