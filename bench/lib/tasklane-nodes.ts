/**
 * Tasklane server nodes as real `tasklane serve` processes (the built CLI, packages/server/dist),
 * the way an operator runs them: flags, TASKLANE_ROOT_KEY in the environment, SIGTERM to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidCpuSeconds } from './proc-cpu.js';

const CLI = fileURLToPath(new URL('../../packages/server/dist/cli/main.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./cpu-profile-hook.mjs', import.meta.url));

export interface TasklaneNode {
  name: string;
  url: string;
  pid: number;
  cpuSeconds(): number | null;
  /** With `profileDir`: starts the CPU profiler in the node (see cpu-profile-hook.mjs). */
  startProfile(): void;
  /** Stops it; resolves with the written .cpuprofile file. */
  stopProfile(): Promise<string>;
  /** SIGTERM, then wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** A root key in the format the server accepts: `tl_` and 40 letters and digits. */
export function newRootKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `tl_${[...randomBytes(40)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export interface NodeOptions {
  name: string;
  dataDir: string;
  rootKey: string;
  /** postgres://… (with `schema`), or undefined for SQLite in dataDir. */
  database?: string;
  schema?: string;
  /** Directory for V8 CPU profiles, taken between startProfile and stopProfile. */
  profileDir?: string | null;
}

export function startNode(opts: NodeOptions): Promise<TasklaneNode> {
  const args = ['serve', '--port', '0', '--data-dir', opts.dataDir, '--rate-limit', '0', '--log-level', 'warn'];
  if (opts.database !== undefined) args.push('--database', opts.database);
  if (opts.schema !== undefined) args.push('--db-schema', opts.schema);
  const profileFile = opts.profileDir ? join(opts.profileDir, `${opts.name}.cpuprofile`) : null;
  const node = profileFile === null ? [] : ['--import', HOOK];
  const child: ChildProcess = spawn(process.execPath, [...node, CLI, ...args], {
    env: {
      ...process.env,
      TASKLANE_ROOT_KEY: opts.rootKey,
      ...(profileFile === null ? {} : { BENCH_PROFILE_FILE: profileFile }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Warnings and errors of a node under load are worth seeing, prefixed with its name.
    for (const line of d.toString().split('\n'))
      if (line.trim() !== '') process.stderr.write(`  [${opts.name}] ${line}\n`);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.name} did not start within 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited with code ${code} before listening: ${stderr}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Tasklane listening on (\S+)/.exec(out);
      if (m === null || child.pid === undefined) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      const pid = child.pid;
      resolve({
        name: opts.name,
        url: m[1] as string,
        pid,
        cpuSeconds: () => pidCpuSeconds(pid),
        startProfile: () => {
          if (profileFile === null) throw new Error(`${opts.name} was started without a profile dir`);
          rmSync(profileFile, { force: true });
          child.kill('SIGUSR2');
        },
        stopProfile: async () => {
          if (profileFile === null) throw new Error(`${opts.name} was started without a profile dir`);
          child.kill('SIGUSR2');
          for (let i = 0; i < 600 && !existsSync(profileFile); i++) await new Promise((r) => setTimeout(r, 50));
          if (!existsSync(profileFile)) throw new Error(`${opts.name} wrote no profile within 30 s`);
          return profileFile;
        },
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
