/** `tasklane tasks bulk` (the built CLI) against a real server started in-process. */
import { TasklaneClient, type BulkActionResult } from '@tasklane/sdk';
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

let server: RunningServer;
let dir: string;
let admin: TasklaneClient;
let adminKey: string;

const tasklane = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...process.env, TASKLANE_URL: server.url, TASKLANE_KEY: adminKey } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
    );
  });

beforeAll(async () => {
  // Like cli.test.ts: build so that running this file alone tests the current source.
  await new Promise((resolve) =>
    execFile(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b'], resolve),
  );
  if (!existsSync(MAIN)) throw new Error(`the build did not produce ${MAIN}`);
  dir = mkdtempSync(join(tmpdir(), 'tasklane-cli-bulk-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
  const root = new TasklaneClient({ url: server.url, key: server.rootKey ?? '' });
  adminKey = (await root.orgs.create({ id: 'cli-bulk', name: 'CLI bulk' })).adminKey.secret;
  admin = new TasklaneClient({ url: server.url, key: adminKey });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('tasklane tasks bulk', () => {
  it('cancels tasks by id, lists the one it could not, and exits 1 for it', async () => {
    const a = await admin.tasks.create({ type: 'cli.bulk' });
    const b = await admin.tasks.create({ type: 'cli.bulk' });
    await admin.tasks.cancel(b.id);
    const r = await tasklane(['tasks', 'bulk', 'cancel', '--id', a.id, '--id', b.id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('cancel: 1 of 2 tasks done.');
    expect(r.stdout).toContain(`${b.id}  INVALID_TRANSITION`);
    expect((await admin.tasks.get(a.id)).status).toBe('canceled');
  });

  it('archives every task that matches a filter, page after page with --all, as JSON', async () => {
    for (let i = 0; i < 5; i++) await admin.tasks.create({ type: 'cli.bulk.f', labels: ['old'] });
    const dry = await tasklane(['tasks', 'bulk', 'archive', '--label', 'old', '--dry-run']);
    expect([dry.code, dry.stdout.trim()]).toEqual([0, '5 tasks match; nothing was changed.']);
    const r = await tasklane(['tasks', 'bulk', 'archive', '--label', 'old', '--limit', '2', '--all', '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as BulkActionResult;
    expect(body.matched).toBe(5);
    expect(body.results.every((x) => x.ok)).toBe(true);
    expect((await admin.tasks.list({ label: 'old' })).items).toHaveLength(0);
  });

  it('is a usage error without ids or filters, or with both (exit 2)', async () => {
    for (const args of [['cancel'], ['cancel', '--id', 'x', '--type', 't'], ['explode', '--id', 'x'], []]) {
      const r = await tasklane(['tasks', 'bulk', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
