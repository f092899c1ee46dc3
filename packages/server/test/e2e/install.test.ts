/**
 * The multi-node guide's way to put `tasklane` on the PATH of a machine with a built clone:
 * `npm install -g ./packages/server`. README says it, and the command it makes serves from any
 * folder. npm installs into a temporary prefix, offline (a folder install is a link, it fetches
 * nothing), so the machine's own global packages are left alone.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const INSTALL = 'npm install -g ./packages/server';

const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `tasklane-${name}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it(`README's '${INSTALL}' puts a tasklane on the PATH that serves from any folder`, async () => {
  const guide = readFileSync(join(REPO, 'README.md'), 'utf8');
  expect(guide.slice(guide.indexOf('## Running several nodes'))).toContain(INSTALL);

  const prefix = tempDir('prefix');
  const npmEnv = { ...process.env, npm_config_prefix: prefix, npm_config_update_notifier: 'false' };
  await new Promise<void>((resolve, reject) =>
    execFile(
      'npm',
      [...INSTALL.split(' ').slice(1), '--offline', '--no-audit', '--no-fund'],
      {
        cwd: REPO,
        env: npmEnv,
      },
      (err, stdout, stderr) => (err ? reject(new Error(`${INSTALL} failed: ${stdout}${stderr}`)) : resolve()),
    ),
  );

  const elsewhere = tempDir('elsewhere');
  const child = spawn('tasklane', ['serve', '--port', '0', '--log-level', 'warn'], {
    cwd: elsewhere,
    env: {
      ...process.env,
      PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
      TASKLANE_ROOT_KEY: '',
      TASKLANE_DATABASE_URL: '',
      TASKLANE_DATA_DIR: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const seen = (d: Buffer) => {
        out += d.toString();
        const m = /^Tasklane listening on (\S+)/m.exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`tasklane serve exited with ${code}: ${out}`)));
    });
    expect(out).toContain(`(storage: sqlite:${join('data', 'tasklane.db')})`);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
