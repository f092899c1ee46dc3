/**
 * The built `tasklane` command (dist/cli/main.js) as a child process against a real server started
 * in-process: `keys` and `tasks`, their --json output, and their exit codes (0 ok, 1 API, 2 usage).
 */
import { TasklaneClient, type KeyInfo, type KeyWithSecret, type Task, type TaskList } from '@tasklane/sdk';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(REPO, 'packages/server/dist/cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the server lives in this process, so it must keep answering). */
function run(file: string, args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let server: RunningServer;
let dir: string;
let admin: TasklaneClient;
let adminKey: string;

/** `tasklane ...` as the org's admin unless `env` says otherwise. */
const tasklane = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [MAIN, ...args], { TASKLANE_URL: server.url, TASKLANE_KEY: adminKey, ...env });

async function json<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await tasklane([...args, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** One line: `tasklane: CODE: detail (request id)`. */
const API_ERROR = (code: string) => new RegExp(`^tasklane: ${code}: .+ \\(request [A-Za-z0-9._:-]+\\)\\n$`);

beforeAll(async () => {
  // `npm test` builds first; build here too so running this file alone tests the current source.
  // Type errors elsewhere in the tree do not stop tsc -b from emitting, so only a missing CLI fails.
  const build = await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b']);
  if (!existsSync(MAIN)) throw new Error(`the build did not produce ${MAIN}:\n${build.stdout}${build.stderr}`);

  dir = mkdtempSync(join(tmpdir(), 'tasklane-cli-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
  if (server.rootKey === null) throw new Error('the first start should create a root key');
  const root = new TasklaneClient({ url: server.url, key: server.rootKey });
  adminKey = (await root.orgs.create({ id: 'cli-test', name: 'CLI test' })).adminKey.secret;
  admin = new TasklaneClient({ url: server.url, key: adminKey });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('help and usage', () => {
  it.each([
    'keys --help',
    'keys create --help',
    'tasks --help',
    'tasks create --help',
    'tasks get -h',
    'tasks list --help',
  ])('tasklane %s prints usage and exits 0', async (line) => {
    const r = await tasklane(line.split(' '));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tasklane /);
    expect(r.stdout).toContain('TASKLANE_KEY');
  });

  it.each([
    [['tasks'], ''],
    [['tasks', 'frobnicate'], "unknown command 'frobnicate'"],
    [['tasks', 'create'], '--type is required'],
    [['tasks', 'create', '--type', 'x', '--bogus'], "Unknown option '--bogus'"],
    [['tasks', 'create', '--type', 'x', '--input', '{nope'], '--input is not valid JSON'],
    [['tasks', 'create', '--type', 'x', '--priority', 'high'], '--priority must be an integer'],
    [['tasks', 'get'], 'give the task ID'],
    [['tasks', 'list', '--status', 'done'], '--status must be one of'],
    [['keys', 'create', '--scope', 'admin'], '--name is required'],
    [['keys', 'create', '--name', 'n'], 'give at least one --scope'],
    [['keys', 'create', '--name', 'n', '--scope', 'everything'], '--scope must be one of'],
    [
      ['keys', 'create', '--name', 'n', '--scope', 'admin', '--expires-at', 'someday'],
      '--expires-at must be an ISO 8601 time',
    ],
    [['keys', 'revoke'], 'give the KEYID'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await tasklane(args);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain(message);
  });

  it('needs a key and an http URL (exit 2)', async () => {
    const noKey = await tasklane(['tasks', 'list'], { TASKLANE_KEY: '' });
    expect([noKey.code, noKey.stderr]).toEqual([2, expect.stringContaining('no API key')]);
    const badUrl = await tasklane(['tasks', 'list', '--url', 'ftp://example.com']);
    expect([badUrl.code, badUrl.stderr]).toEqual([2, expect.stringContaining('--url must be an http(s) URL')]);
  });

  it('says so in one line when the server cannot be reached (exit 1)', async () => {
    const goneDir = mkdtempSync(join(tmpdir(), 'tasklane-cli-gone-'));
    const gone = await startServer(loadConfig({}, { port: '0', dataDir: goneDir, logLevel: 'silent', rateLimit: '0' }));
    const goneUrl = gone.url;
    await gone.close();
    rmSync(goneDir, { recursive: true, force: true });
    const r = await tasklane(['tasks', 'list', '--url', goneUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tasklane: GET .+: cannot reach the server \(.+\)\n$/);
  });
});

describe('tasklane keys', () => {
  it('creates a key and prints its secret once, lists without secrets, revokes', async () => {
    const created = await json<KeyWithSecret>([
      'keys',
      'create',
      '--name',
      'ci',
      '--scope',
      'tasks:read',
      '--scope',
      'tasks:write',
    ]);
    expect(created).toMatchObject({ name: 'ci', scopes: ['tasks:read', 'tasks:write'], expiresAt: null });
    expect(created.secret).toMatch(/^tl_[0-9A-Za-z]{32,}$/);

    const listed = await json<KeyInfo[]>(['keys', 'list']);
    expect(listed.map((k) => k.id)).toContain(created.id);
    const human = await tasklane(['keys', 'list']);
    expect(human.stdout).toMatch(/^ID +NAME +STATE/);
    expect(human.stdout).toContain(created.id);
    expect(human.stdout + JSON.stringify(listed)).not.toContain(created.secret);

    const asCi = { TASKLANE_KEY: created.secret };
    expect((await tasklane(['tasks', 'list'], asCi)).code).toBe(0);
    const revoked = await tasklane(['keys', 'revoke', created.id]);
    expect([revoked.code, revoked.stdout]).toEqual([0, `Revoked key ${created.id}.\n`]);
    const denied = await tasklane(['tasks', 'list'], asCi);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(API_ERROR('UNAUTHORIZED'));
  });

  it('prints the secret clearly for people, with the expiry given', async () => {
    const r = await tasklane([
      'keys',
      'create',
      '--name',
      'temp',
      '--scope',
      'tasks:read',
      '--expires-at',
      '2099-01-01',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('expires 2099-01-01T00:00:00.000Z');
    expect(r.stdout).toMatch(/shown this once/);
    expect(r.stdout).toMatch(/^ {2}tl_[0-9A-Za-z]{32,}$/m);
  });

  it('answers API errors in one line, exit 1', async () => {
    const { secret } = await admin.keys.create({ name: 'reader', scopes: ['tasks:read'] });
    const r = await tasklane(['keys', 'list'], { TASKLANE_KEY: secret });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(API_ERROR('FORBIDDEN'));
    const missing = await tasklane(['keys', 'revoke', 'key_doesnotexist']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(API_ERROR('NOT_FOUND'))]);
  });
});

describe('tasklane tasks', () => {
  it('creates a task from every flag', async () => {
    await admin.projects.create({ key: 'CLI', name: 'CLI project' });
    const dep = await admin.tasks.create({ type: 'cli.dep' });
    const task = await json<Task>([
      'tasks',
      'create',
      '--type',
      'cli.full',
      '--title',
      'Send the report',
      '--input',
      '{"to":"ops@example.com","n":[1,2]}',
      '--priority=-5', // parseArgs reads a bare '-5' as a flag
      '--label',
      'a',
      '--label',
      'b',
      '--list-id',
      'plan-7',
      '--project',
      'CLI',
      '--depends-on',
      dep.id,
      '--delay-ms',
      '60000',
    ]);
    expect(task).toMatchObject({
      type: 'cli.full',
      title: 'Send the report',
      input: { to: 'ops@example.com', n: [1, 2] },
      priority: -5,
      labels: ['a', 'b'],
      listId: 'plan-7',
      identifier: 'CLI-1',
      dependsOn: [dep.id],
      status: 'blocked',
    });
    expect(task.runAt).not.toBeNull();
  });

  it('creates in the backlog with --no-start, and replays an idempotency key', async () => {
    expect((await json<Task>(['tasks', 'create', '--type', 'cli.backlog', '--no-start'])).status).toBe('backlog');
    const args = ['tasks', 'create', '--type', 'cli.idem', '--idempotency-key', 'cli-idem-1'];
    const first = await json<Task>(args);
    expect((await json<Task>(args)).id).toBe(first.id);
    const mismatch = await tasklane([...args, '--title', 'other']);
    expect([mismatch.code, mismatch.stderr]).toEqual([1, expect.stringMatching(API_ERROR('IDEMPOTENCY_MISMATCH'))]);
  });

  it('prints a short summary for people, and maps server validation to exit 1', async () => {
    const r = await tasklane(['tasks', 'create', '--type', 'cli.human', '--title', 'For people']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Created task [0-9a-f-]{36}\.\n/);
    expect(r.stdout).toMatch(/^status +queued$/m);
    const invalid = await tasklane(['tasks', 'create', '--type', 'cli.human', '--priority', '5000']);
    expect([invalid.code, invalid.stderr]).toEqual([1, expect.stringMatching(API_ERROR('VALIDATION_FAILED'))]);
  });

  it('gets a task by id or identifier; 404 is exit 1', async () => {
    const task = await admin.tasks.create({ type: 'cli.get', projectId: 'CLI' });
    expect(await json<Task>(['tasks', 'get', task.id])).toEqual(task);
    const human = await tasklane(['tasks', 'get', task.identifier ?? '']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`id          ${task.id}`);
    expect(human.stdout).toMatch(/^identifier +CLI-\d+$/m);

    const missing = await tasklane(['tasks', 'get', '01900000-0000-7000-8000-000000000000']);
    expect([missing.code, missing.stdout]).toEqual([1, '']);
    expect(missing.stderr).toMatch(API_ERROR('NOT_FOUND'));
  });

  it('gets with --wait until the task is done', async () => {
    const task = await admin.tasks.create({ type: 'cli.wait' });
    const waiting = json<Task>(['tasks', 'get', task.id, '--wait', '30']);
    await admin.tasks.cancel(task.id);
    expect(await waiting).toMatchObject({ id: task.id, status: 'canceled' });
  });

  it('lists with filters, one page or --all', async () => {
    const made = await admin.tasks.createBatch({
      tasks: Array.from({ length: 5 }, (_, i) => ({ type: 'cli.list', priority: i })),
    });
    await admin.tasks.cancel(made[0]?.id ?? '');
    const newestFirst = made.map((t) => t.id).reverse();

    const page = await json<TaskList>(['tasks', 'list', '--type', 'cli.list', '--limit', '2']);
    expect(page.items.map((t) => t.id)).toEqual(newestFirst.slice(0, 2));
    expect(page.hasMore).toBe(true);
    const next = await json<TaskList>([
      'tasks',
      'list',
      '--type',
      'cli.list',
      '--limit',
      '2',
      '--cursor',
      page.nextCursor ?? '',
    ]);
    expect(next.items.map((t) => t.id)).toEqual(newestFirst.slice(2, 4));

    const all = await json<TaskList>(['tasks', 'list', '--type', 'cli.list', '--limit', '2', '--all']);
    expect(all).toMatchObject({ hasMore: false, nextCursor: null });
    expect(all.items.map((t) => t.id)).toEqual(newestFirst);

    const statuses = await json<TaskList>([
      'tasks',
      'list',
      '--type',
      'cli.list',
      '--status',
      'canceled',
      '--status',
      'failed',
    ]);
    expect(statuses.items.map((t) => t.id)).toEqual([made[0]?.id]);

    const human = await tasklane(['tasks', 'list', '--type', 'cli.list', '--limit', '2']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ID +STATUS +TYPE +PRI +CREATED +TITLE\n/);
    expect(human.stdout).toContain(`More: --cursor ${page.nextCursor}`);
    expect((await tasklane(['tasks', 'list', '--type', 'cli.none'])).stdout).toBe('No tasks.\n');
  });
});
