/**
 * `tasklane serve` as a newcomer runs it: a real process on a real port. First start prints the
 * URL and the root key (also written to a file only the owner can read); the environment variables
 * configure it; SIGTERM answers held long-polls at once and the process exits well within 10 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

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
  out: () => string;
  url: string;
}

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

/** Start `tasklane serve` and resolve once it prints where it listens. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], {
    env: { ...process.env, TASKLANE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, out: () => out, url };
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
