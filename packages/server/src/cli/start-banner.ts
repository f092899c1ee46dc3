/**
 * What `serve` prints once it listens: a block framed by rules, so the URL and the root key stand
 * apart from the log lines around it. Its first line stays `Tasklane listening on URL …`: scripts
 * and the tests wait for it.
 */

/** Where the root key came from (RunningServer.rootKeyOrigin, with what each case shows). */
export type RootKeyFact =
  | { origin: 'created'; secret: string; file: string }
  | { origin: 'environment' }
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
      return ['Root key: taken from TASKLANE_ROOT_KEY (not printed).'];
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
