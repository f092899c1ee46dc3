/**
 * The built `tasklane` command as child processes: `serve` on a free port, waited for until it
 * prints where it listens, and one-shot commands with their exit code and output. Every child is
 * stopped by `stopAll` (call it after each test).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const children: ChildProcess[] = [];

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface Served {
  child: ChildProcess;
  url: string;
  /** stdout and stderr so far. */
  out(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** `tasklane serve ARGS` with `env` added (logs at warn), resolved once it listens. */
export async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], {
    env: { ...process.env, TASKLANE_LOG_LEVEL: 'warn', TASKLANE_ROOT_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /listening on (http:\/\/[^\s(]+)/.exec(out)?.[1];
      if (found !== undefined) done(null, found);
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      check();
    };
    const onExit = (code: number | null) => done(new Error(`serve exited with ${code}: ${out}`));
    const timer = setTimeout(() => done(new Error(`serve did not listen within 20 s: ${out}`)), 20_000);
    function done(err: Error | null, found?: string) {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (err !== null) reject(err);
      else resolve(found as string);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
  return {
    child,
    url,
    out: () => out,
    stop: () => {
      const exited = new Promise<number | null>((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
      );
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tasklane ARGS` to its end (asynchronously: servers in this process keep answering). */
export function tasklane(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...process.env, TASKLANE_ROOT_KEY: '', ...env } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Kills every child still running (SIGKILL: a test that failed may have left one). */
export function stopAll(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
