/* global process, URL, setTimeout, clearTimeout */
// A real Tasklane server for the dashboard's browser tests and screenshots: the built CLI
// (`tasklane serve`) on a free port of 127.0.0.1, over SQLite in a temp folder, with a known root key.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVER_MAIN = join(REPO, 'packages/server/dist/cli/main.js');

/**
 * `shiftedClock: true` (the screenshots) runs the server with scripts/shifted-clock.mjs preloaded:
 * then `setClock(offsetMs)` moves its Date.now() by `offsetMs` (negative: into the past) until the
 * next call, resolving once the server runs on it. `env` is added to the server's environment.
 */
export async function startTestServer({ shiftedClock = false, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-dashboard-'));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const rootKey = `tl_${[...randomBytes(40)].map((b) => alphabet[b % alphabet.length]).join('')}`;
  const preload = shiftedClock ? ['--import', new URL('./shifted-clock.mjs', import.meta.url).href] : [];
  const child = spawn(process.execPath, [...preload, SERVER_MAIN, 'serve', '--port', '0', '--data-dir', dir], {
    env: { ...process.env, TASKLANE_ROOT_KEY: rootKey, TASKLANE_RATE_LIMIT: '0', TASKLANE_LOG_LEVEL: 'warn', ...env },
    stdio: shiftedClock ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${out}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    rootKey,
    output: () => out,
    setClock(offsetMs) {
      if (!shiftedClock) return Promise.reject(new Error('setClock needs startTestServer({ shiftedClock: true })'));
      return new Promise((resolve) => {
        const onMessage = (m) => {
          if (m?.type !== 'clock-set' || m.offsetMs !== offsetMs) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send({ type: 'clock', offsetMs });
      });
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
