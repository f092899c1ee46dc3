/**
 * `tasklane serve` as a newcomer runs it: a real process on a real port. First start prints the
 * URL and the root key (also written to a file only the owner can read); the environment variables
 * configure it; SIGTERM answers held long-polls at once and the process exits well within 10 s.
 */
import {
  spawn,
  type ChildProcess,
  type SpawnOptionsWithStdioTuple,
  type StdioNull,
  type StdioPipe,
} from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl } from '../helpers/pg.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

interface Served {
  child: ChildProcess;
  /** stdout and stderr as they came. */
  out: () => string;
  /** stdout alone. */
  stdout: () => string;
  url: string;
}

const pg = pgUrl() === null ? null : freshSchema('serve');

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tasklane-serve-'));
  dirs.push(d);
  return d;
}

/**
 * Start `tasklane serve` and resolve once it prints where it listens. `terminal`: run it on a
 * pseudo-terminal (util-linux `script`), as a person at a shell does.
 */
async function serve(args: string[], env: Record<string, string> = {}, terminal = false): Promise<Served> {
  const argv = [process.execPath, MAIN, 'serve', ...args];
  const options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe> = {
    env: { ...process.env, TASKLANE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  const child = terminal
    ? spawn('script', ['-qfec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], options)
    : spawn(process.execPath, argv.slice(1), options);
  children.push(child);
  let out = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const served = { child, out: () => out, stdout: () => stdout };
  const url = await until(served, (text) => /listening on (http:\/\/[^\s(]+)/.exec(text)?.[1], 20_000);
  return { ...served, url };
}

/** Resolves with what `match` finds in the output, checked as each chunk arrives. */
function until<T>(
  served: { child: ChildProcess; out: () => string },
  match: (out: string) => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error, found?: T) => {
      clearTimeout(timer);
      served.child.stdout?.off('data', check);
      served.child.stderr?.off('data', check);
      served.child.off('exit', onExit);
      if (error) reject(error);
      else resolve(found as T);
    };
    const check = () => {
      const found = match(served.out());
      if (found !== undefined) done(undefined, found);
    };
    const onExit = (code: number | null) => done(new Error(`serve exited with ${code}: ${served.out()}`));
    const timer = setTimeout(() => done(new Error(`not seen within ${timeoutMs} ms in: ${served.out()}`)), timeoutMs);
    served.child.stdout?.on('data', check);
    served.child.stderr?.on('data', check);
    served.child.once('exit', onExit);
    check();
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
  );

describe('tasklane serve', () => {
  it('first start prints the URL and the root key, writes it 0600, and a restart does not print it again', async () => {
    const dir = tempDir();
    const port = await freePort();
    const first = await serve(['--port', String(port), '--data-dir', dir]);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const printed = /\n {2}(tl_[0-9A-Za-z]{40})\n/.exec(first.out())?.[1];
    expect(printed).toBeDefined();
    const file = join(dir, 'root-key');
    expect(first.out()).toContain(`Root key: created for org 'default' and written to ${file} (readable by you only)`);
    expect(readFileSync(file, 'utf8').trim()).toBe(printed);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const res = await fetch(`${first.url}/v1/tasks`, { headers: { authorization: `Bearer ${printed}` } });
    expect(res.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    const again = await serve(['--port', String(port), '--data-dir', dir]);
    expect(again.out()).not.toContain(printed);
    expect(again.out()).toContain(`Root key: already in the database (not shown again; ${file} has the copy`);
    const still = await fetch(`${again.url}/v1/tasks`, { headers: { authorization: `Bearer ${printed}` } });
    expect(still.status).toBe(200);
  });

  it('takes its settings from TASKLANE_* variables, and a bad one stops it with a clear message', async () => {
    const dir = tempDir();
    const port = await freePort();
    const rootKey = `tl_${'k'.repeat(40)}`;
    const s = await serve([], {
      TASKLANE_PORT: String(port),
      TASKLANE_HOST: '127.0.0.1',
      TASKLANE_DATA_DIR: dir,
      TASKLANE_DATABASE_URL: `sqlite:${join(dir, 'custom.db')}`,
      TASKLANE_ROOT_KEY: rootKey,
      TASKLANE_RATE_LIMIT: '1',
    });
    expect(s.url).toBe(`http://127.0.0.1:${port}`);
    expect(s.out()).toContain(join(dir, 'custom.db'));
    expect(statSync(join(dir, 'custom.db')).isFile()).toBe(true);
    // Rate limit 1/s with bursts of 2: the third quick request is refused.
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await fetch(`${s.url}/v1/tasks`, { headers: { authorization: `Bearer ${rootKey}` } })).status);
    }
    expect(codes).toEqual([200, 200, 429]);

    const bad = spawn(process.execPath, [MAIN, 'serve'], {
      env: { ...process.env, TASKLANE_PORT: 'eighty', TASKLANE_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(bad);
    let err = '';
    bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exited(bad)).toBe(2);
    expect(err).toContain('port');
  });

  it('never prints nor writes a root key given in TASKLANE_ROOT_KEY, and says where the key came from', async () => {
    const dir = tempDir();
    const port = await freePort();
    const rootKey = `tl_${'s3cr3t'.repeat(7)}`;
    const args = ['--port', String(port), '--data-dir', dir];
    // An empty database: org 'default' is made with the operator's key.
    const first = await serve(args, { TASKLANE_ROOT_KEY: rootKey });
    expect(first.out()).toContain('Root key: taken from TASKLANE_ROOT_KEY (not printed).');
    expect(first.out()).not.toContain(rootKey);
    expect(existsSync(join(dir, 'root-key'))).toBe(false);
    const res = await fetch(`${first.url}/v1/tasks`, { headers: { authorization: `Bearer ${rootKey}` } });
    expect(res.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);
    expect(first.out()).not.toContain(rootKey);

    // A database that has its key already: still the operator's, still not printed.
    const again = await serve(args, { TASKLANE_ROOT_KEY: rootKey });
    expect(again.out()).toContain('Root key: taken from TASKLANE_ROOT_KEY (not printed).');
    expect(again.out()).not.toContain(rootKey);
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).toBe(0);

    // Without the variable the key is the database's, and there is no file to point at.
    const plain = await serve(args);
    expect(plain.out()).toContain('Root key: already in the database (not shown again).');
    expect(plain.out()).not.toContain('tl_');
  });

  it.skipIf(pg === null)('prints a PostgreSQL URL without its password', async () => {
    if (pg === null) return;
    const database = new URL(pg.url);
    database.password = 'hunter2-in-the-url';
    const s = await serve([
      '--port',
      String(await freePort()),
      '--data-dir',
      tempDir(),
      '--database',
      database.href,
      '--db-schema',
      pg.newSchema(),
    ]);
    database.password = '***';
    expect(s.out()).toContain(`(storage: ${database.href})`);
    expect(s.out()).not.toContain('hunter2');
  });

  it('on SIGTERM answers a held long-poll at once and exits within 10 s', async () => {
    const dir = tempDir();
    const s = await serve(['--port', String(await freePort()), '--data-dir', dir]);
    const key = readFileSync(join(dir, 'root-key'), 'utf8').trim();
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const task = (await (
      await fetch(`${s.url}/v1/tasks`, { method: 'POST', headers, body: '{"type":"t"}' })
    ).json()) as {
      id: string;
    };
    const held = fetch(`${s.url}/v1/tasks/${task.id}?wait=60`, { headers: { ...headers, 'if-none-match': '"1"' } });
    // The long-poll is parked once the server has read it; give it a moment to get there.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const res = await held;
    expect(res.status).toBe(304);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await exited(s.child)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

/** The banner between its two rules, and every other line of stdout. */
function splitBanner(stdout: string): { banner: string[]; logs: string[] } {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const rules = lines.flatMap((l, i) => (/^─{40,}$/.test(l) ? [i] : []));
  expect(rules, `two rules frame the banner in:\n${stdout}`).toHaveLength(2);
  const [open = 0, close = 0] = rules;
  return { banner: lines.slice(open + 1, close), logs: [...lines.slice(0, open), ...lines.slice(close + 1)] };
}

/** What a terminal shows, less its colours and carriage returns. */
const visible = (text: string) => stripVTControlCharacters(text).replace(/\r/g, '');

describe('tasklane serve output', () => {
  it('on a pipe: a framed banner, then JSON lines; a request is one line at debug', async () => {
    const dir = tempDir();
    const s = await serve(['--port', String(await freePort()), '--data-dir', dir, '--log-level', 'debug']);
    await fetch(`${s.url}/v1/tasks?limit=1`, { headers: { 'x-request-id': 'json-1' } });
    await until(s, (out) => (out.includes('"reqId":"json-1"') ? true : undefined));

    const { banner, logs } = splitBanner(s.stdout());
    expect(banner[0]).toBe(`Tasklane listening on ${s.url} (storage: sqlite:${join(dir, 'tasklane.db')})`);
    expect(banner).toContain(`API reference: ${s.url}/docs`);
    expect(banner.some((l) => l.startsWith("Root key: created for org 'default'"))).toBe(true);
    expect(banner).toContain('Logs: level debug, one line per request.');
    // Everything else on stdout is a JSON log line, and the request is one of them, after the banner.
    const records = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = records.filter((r) => r.reqId === 'json-1');
    expect(request).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'request completed',
        req: expect.objectContaining({ method: 'GET', url: '/v1/tasks?limit=1' }),
        res: { statusCode: 401 },
        responseTime: expect.any(Number),
      }),
    ]);
    const lines = s.stdout().split('\n');
    expect(lines.findIndex((l) => l.includes('json-1'))).toBeGreaterThan(lines.findLastIndex((l) => /^─+$/.test(l)));
  });

  it('at the default level logs no line per request; the shutdown is a log line too', async () => {
    const dir = tempDir();
    const s = await serve(['--port', String(await freePort()), '--data-dir', dir], { TASKLANE_LOG_LEVEL: '' });
    expect(s.out()).toContain('Logs: level info; --log-level debug adds one line per request.');
    expect((await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'quiet-1' } })).status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await exited(s.child)).toBe(0);
    const records = splitBanner(s.stdout()).logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [30, `Server listening at ${s.url}`],
      [30, 'SIGTERM: shutting down'],
    ]);
    expect(s.out()).not.toContain('quiet-1');
  });

  it('on a terminal: pretty lines, one per request (and TASKLANE_LOG_FORMAT=pretty does the same on a pipe)', async () => {
    const dir = tempDir();
    const line = (id: string) =>
      new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] DEBUG: GET /v1/tasks 401 [\\d.]+ ms \\[${id}\\]$`, 'm');
    const tty = await serve(['--port', String(await freePort()), '--data-dir', dir, '--log-level', 'debug'], {}, true);
    await fetch(`${tty.url}/v1/tasks`, { headers: { 'x-request-id': 'tty-1' } });
    await until(tty, (out) => line('tty-1').exec(visible(out))?.[0]);
    expect(visible(tty.out())).toMatch(/^Tasklane listening on /m);
    expect(tty.out()).not.toMatch(/^\{/m);
    tty.child.kill('SIGTERM');
    await exited(tty.child);

    const piped = await serve(['--port', String(await freePort()), '--data-dir', dir, '--log-level', 'debug'], {
      TASKLANE_LOG_FORMAT: 'pretty',
    });
    await fetch(`${piped.url}/v1/tasks`, { headers: { 'x-request-id': 'pretty-1' } });
    await until(piped, (out) => line('pretty-1').exec(out)?.[0]);
    expect(piped.out()).not.toMatch(/^\{/m);
  });
});
