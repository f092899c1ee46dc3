/**
 * Parent side of a server child process. The servers run in their own processes so that neither
 * shares an event loop with the load generator (or with each other); see README "Setup".
 */
import { fork } from 'node:child_process';
import type { ChildMessage } from '../servers/child-ipc.js';
import { pidCpuSeconds } from './proc-cpu.js';

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** User + system CPU seconds the process has used so far (all its threads), or null off Linux. */
  cpuSeconds(): number | null;
  /** Runs `during` with the V8 CPU profiler on in the server process; writes the profile to `file`. */
  profile(file: string, during: () => Promise<void>): Promise<void>;
  /** Closes the server gracefully and waits for the process to exit (a CPU profile is written then). */
  stop(): Promise<void>;
}

export function startServerProcess(
  name: string,
  script: URL,
  opts: { env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answer = (type: ChildMessage['type']) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error(`${name} server exited while the benchmark waited for '${type}'`)));
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} server did not start within 60 s`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} server exited with code ${code} before it was ready`));
    });
    child.on('message', (m: ChildMessage) => {
      if (m.type !== 'ready' || child.pid === undefined) return;
      clearTimeout(timer);
      const pid = child.pid;
      resolve({
        name,
        url: m.url,
        pid,
        cpuSeconds: () => pidCpuSeconds(pid),
        profile: async (file, during) => {
          const started = answer('profile-started');
          child.send({ type: 'profile-start' } satisfies ChildMessage);
          await started;
          try {
            await during();
          } finally {
            const written = answer('profile-written');
            child.send({ type: 'profile-stop', file } satisfies ChildMessage);
            await written;
          }
        },
        stop: async () => {
          if (child.exitCode !== null) return;
          child.send({ type: 'stop' } satisfies ChildMessage);
          const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
