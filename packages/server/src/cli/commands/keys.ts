/**
 * `tasklane keys create|list|revoke`: the API keys of the caller's org, through the SDK (needs an admin
 * key); `keys reset-root` works on the database instead (reset-root.ts).
 */
import { parseArgs } from 'node:util';
import { SCOPES, type KeyCreate } from '@tasklane/sdk';
import {
  dispatch,
  CLIENT_HELP,
  CLIENT_OPTIONS,
  connect,
  oneOf,
  parseOrUsage,
  usageError,
  withApiErrors,
} from '../client-options.js';
import { keyTable, out, printJson } from '../print.js';

const HELP = `Usage: tasklane keys <command> [options]

Commands:
  create --name N --scope S [--scope S]... [--expires-at ISO]
                       Create a key; its secret is printed once
  list                 The keys of your org (never their secrets)
  revoke KEYID         Revoke a key, at once (not your own, nor the org's last admin key)
  reset-root [--database URL] [--data-dir DIR]
                       On the database itself, no key needed: a new root key for org
                       'default', the old root keys revoked (see 'keys reset-root --help')

Scopes: ${SCOPES.join(', ')}

${CLIENT_HELP}`;

const CREATE_HELP = `Usage: tasklane keys create --name N --scope S [--scope S]... [--expires-at ISO]

  --name        a name for people (also the createdBy of tasks it creates)
  --scope       repeatable: ${SCOPES.join(', ')}
  --expires-at  expiry time (ISO 8601); default never

The secret is printed once; only its SHA-256 is stored.

${CLIENT_HELP}`;

const LIST_HELP = `Usage: tasklane keys list

${CLIENT_HELP}`;

const REVOKE_HELP = `Usage: tasklane keys revoke KEYID

${CLIENT_HELP}`;

export function keysCommand(argv: string[]): Promise<number> {
  return dispatch(
    'keys',
    HELP,
    {
      create: createKey,
      list: listKeys,
      revoke: revokeKey,
      // Opens the database, not a connection to a server: loaded only when run.
      'reset-root': async (rest) => (await import('./reset-root.js')).resetRootCommand(rest),
    },
    argv,
  );
}

async function createKey(argv: string[]): Promise<number> {
  const command = 'keys create';
  const { values } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      options: {
        ...CLIENT_OPTIONS,
        name: { type: 'string' },
        scope: { type: 'string', multiple: true },
        'expires-at': { type: 'string' },
      },
    }),
  );
  if (values.help) return help(CREATE_HELP);
  if (values.name === undefined) throw usageError(command, '--name is required');
  const scopes = (values.scope ?? []).map((s) => oneOf(command, 'scope', s, SCOPES));
  if (scopes.length === 0) throw usageError(command, 'give at least one --scope');
  const body: KeyCreate = { name: values.name, scopes: [...new Set(scopes)] };
  const expiresAt = values['expires-at'];
  if (expiresAt !== undefined) {
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) throw usageError(command, `--expires-at must be an ISO 8601 time, got '${expiresAt}'`);
    body.expiresAt = new Date(at).toISOString();
  }
  const client = connect(command, values);
  const key = await withApiErrors(() => client.keys.create(body));
  if (values.json) {
    printJson(key);
  } else {
    out(
      `Created key ${key.id} '${key.name}' (scopes ${key.scopes.join(', ')}; ` +
        `${key.expiresAt === null ? 'never expires' : `expires ${key.expiresAt}`}).\n\n` +
        `Secret (shown this once; store it now, it cannot be shown again):\n\n  ${key.secret}\n`,
    );
  }
  return 0;
}

async function listKeys(argv: string[]): Promise<number> {
  const command = 'keys list';
  const { values } = parseOrUsage(command, () => parseArgs({ args: argv, options: CLIENT_OPTIONS }));
  if (values.help) return help(LIST_HELP);
  const client = connect(command, values);
  const keys = await withApiErrors(() => client.keys.list());
  if (values.json) printJson(keys);
  else out(keys.length === 0 ? 'No keys.' : keyTable(keys));
  return 0;
}

async function revokeKey(argv: string[]): Promise<number> {
  const command = 'keys revoke';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true }),
  );
  if (values.help) return help(REVOKE_HELP);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usageError(command, 'give the KEYID to revoke');
  if (extra.length > 0) throw usageError(command, `one KEYID at a time (got ${positionals.length})`);
  const client = connect(command, values);
  await withApiErrors(() => client.keys.revoke(id));
  if (values.json) printJson({ id, revoked: true });
  else out(`Revoked key ${id}.`);
  return 0;
}

function help(text: string): number {
  out(text);
  return 0;
}
