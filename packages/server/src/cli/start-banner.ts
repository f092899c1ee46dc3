/**
 * What `serve` prints once it listens: a block framed by rules, so the URL and the root key stand
 * apart from the log lines around it. Its first line stays `Tasklane listening on URL …`: scripts
 * and the tests wait for it.
 */
import type { GivenRootKey } from '../service/auth-service.js';

/** Where the root key came from (RunningServer.rootKeyOrigin, with what each case shows). */
export type RootKeyFact =
  | { origin: 'created'; secret: string; file: string }
  /** `state`: what the database says of TASKLANE_ROOT_KEY's key. */
  | { origin: 'environment'; state: GivenRootKey }
  /** `file`: a root-key file in the data folder, from the start that created the key. */
  | { origin: 'database'; file: string | null };

export interface StartFacts {
  url: string;
  /** The database URL, as configured (a password in it is not printed). */
  storage: string;
  rootKey: RootKeyFact;
  logLevel: string;
}

const RULE = '─'.repeat(72);

export function startBanner(facts: StartFacts): string {
  const lines = [
    RULE,
    `Tasklane listening on ${facts.url} (storage: ${withoutPassword(facts.storage)})`,
    `API reference: ${facts.url}/docs`,
    ...rootKeyLines(facts.rootKey),
    logLine(facts.logLevel),
    RULE,
  ];
  return `${lines.join('\n')}\n`;
}

/** A database URL fit to print: a password in it becomes `***` (logs are no place for it). */
export function withoutPassword(databaseUrl: string): string {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl) || !URL.canParse(databaseUrl)) return databaseUrl;
  const url = new URL(databaseUrl);
  if (url.password === '') return databaseUrl;
  url.password = '***';
  return url.href;
}

function logLine(level: string): string {
  if (level === 'silent') return 'Logs: none (--log-level silent).';
  if (level === 'debug' || level === 'trace') return `Logs: level ${level}, one line per request.`;
  return `Logs: level ${level}; --log-level debug adds one line per request.`;
}

/**
 * A key this start generated is shown once (it is also in its file); a key the operator supplied
 * is never echoed: logs are no place for a secret they already have.
 */
function rootKeyLines(key: RootKeyFact): string[] {
  switch (key.origin) {
    case 'created':
      return [
        `Root key: created for org 'default' and written to ${key.file} (readable by you only); shown this once:`,
        '',
        `  ${key.secret}`,
        '',
      ];
    case 'environment':
      return key.state === 'valid'
        ? ['Root key: taken from TASKLANE_ROOT_KEY (not printed).']
        : givenKeyProblem(key.state);
    case 'database':
      return [
        key.file === null
          ? 'Root key: already in the database (not shown again).'
          : `Root key: already in the database (not shown again; ${key.file} has the copy written when it was created).`,
      ];
    default: {
      const never: never = key;
      return never;
    }
  }
}

/**
 * A TASKLANE_ROOT_KEY that will not work as a root key, said plainly with the way out. On a database
 * that has orgs the variable only names a key, it never adds one (AuthService.bootstrap).
 */
function givenKeyProblem(state: Exclude<GivenRootKey, 'valid'>): string[] {
  const what = {
    revoked: 'is revoked in this database: requests with it answer 401.',
    expired: 'has expired in this database: requests with it answer 401.',
    unknown: 'is not a key of this database (which has its own root key): requests with it answer 401.',
    'not-root': 'is a key of this database without the root scope: it cannot create orgs.',
  }[state];
  return [
    `Root key: TASKLANE_ROOT_KEY (not printed) ${what}`,
    "  To get a working root key, run 'tasklane keys reset-root' with this server's --database or",
    '  --data-dir: it prints a new root key for org default and revokes the old ones (README, Operations).',
    '  Then set TASKLANE_ROOT_KEY to the new key, or unset it.',
  ];
}
