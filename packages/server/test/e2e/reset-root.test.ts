/**
 * Locked out, and back in, as an operator lives it with the real `tasklane` command, on SQLite and on
 * PostgreSQL: the API refuses the revocations that lock an org out (409s); a database whose root key
 * was revoked in storage (what those rules exist to prevent) starts with a banner that says so and
 * names the way out; `tasklane keys reset-root`, run beside the running server, prints a key that
 * works against it at once, while the old one answers 401.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { hasScope } from '../../src/service/principal.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import { freePort, serve, stopAll, tasklane } from './serve-process.js';

const pg = pgUrl() === null ? null : freshSchema('reset-root');
const dirs: string[] = [];

afterEach(() => {
  stopAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** The flags `serve` and `keys reset-root` both take to name the database. */
  database(dir: string): string[];
  /** The same database, opened in this process (as a second process would). */
  open(dir: string): TaskStore;
}

const sqlite: Backend = {
  name: 'sqlite',
  database: (dir) => ['--data-dir', dir],
  open: (dir) => createSqliteStore({ path: join(dir, 'tasklane.db'), clock: systemClock }),
};
const postgres = (schema: string): Backend => ({
  name: 'postgres',
  database: (dir) => ['--data-dir', dir, '--database', pg?.url ?? '', '--db-schema', schema],
  open: () => createPostgresStore({ url: pg?.url ?? '', schema }),
});

const KEY = /tl_[0-9A-Za-z]{32,}/g;

/** One request with a bearer key; its status and JSON body. */
async function call(url: string, key: string, method = 'GET', body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  revokedAt: string | null;
}

async function lockOutAndRecover(backend: Backend): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-reset-'));
  dirs.push(dir);
  const args = ['--port', String(await freePort()), ...backend.database(dir)];

  // First start: org `default` and its root key, in <dir>/root-key.
  let server = await serve(args);
  const oldRoot = readFileSync(join(dir, 'root-key'), 'utf8').trim();
  const keys = async (key: string) => (await call(`${server.url}/v1/keys`, key)).body?.items as KeyInfo[];
  const rootId = (await keys(oldRoot)).find((k) => k.name === 'root')?.id ?? '';

  // The API refuses what would lock the org out: the root key revoking itself, and (two admins
  // revoking each other at once) the last admin key.
  const self = await call(`${server.url}/v1/keys/${rootId}`, oldRoot, 'DELETE');
  expect([self.status, self.body?.code]).toEqual([409, 'KEY_IS_CALLER']);
  const admin = (await call(`${server.url}/v1/keys`, oldRoot, 'POST', { name: 'ops', scopes: ['admin'] })).body;
  const [byAdmin, byRoot] = await Promise.all([
    call(`${server.url}/v1/keys/${rootId}`, String(admin?.secret), 'DELETE'),
    call(`${server.url}/v1/keys/${String(admin?.id)}`, oldRoot, 'DELETE'),
  ]);
  const answers = [byAdmin, byRoot].map((r) => (r.status === 204 ? '204' : `${r.status} ${String(r.body?.code)}`));
  expect(answers.filter((a) => a === '204')).toHaveLength(1);
  expect(answers.find((a) => a !== '204')).toMatch(/^(409 LAST_ADMIN_KEY|401 UNAUTHORIZED)$/);
  expect(await server.stop()).toBe(0);

  // What the rules prevent, done in storage: every admin key of org `default` revoked.
  const store = backend.open(dir);
  try {
    await store.write(async (tx) => {
      for (const k of await tx.listKeys('default')) {
        if (k.revokedAt === null && hasScope(k, 'admin')) await tx.revokeKey('default', k.id, tx.now);
      }
    });
  } finally {
    await store.close();
  }

  // A start with the revoked key in TASKLANE_ROOT_KEY says so, without printing it, and names the way out.
  server = await serve(args, { TASKLANE_ROOT_KEY: oldRoot });
  expect(server.out()).toContain('Root key: TASKLANE_ROOT_KEY (not printed) is revoked in this database');
  expect(server.out()).toContain("run 'tasklane keys reset-root'");
  expect(server.out()).not.toContain(oldRoot);
  expect((await call(`${server.url}/v1/tasks`, oldRoot)).status).toBe(401);

  // The reset, beside the running server.
  const reset = await tasklane(['keys', 'reset-root', ...backend.database(dir)]);
  expect(reset.stderr).toBe('');
  expect(reset.code).toBe(0);
  const printed = reset.stdout.match(KEY) ?? [];
  expect(printed).toHaveLength(1);
  const newRoot = printed[0] ?? '';
  // The old root key was revoked already: nothing is left to revoke.
  expect(reset.stdout).toContain('No root key was left to revoke.');
  // serve keeps its root key in the data folder: the copy there is the new key now, still 0600.
  const file = join(dir, 'root-key');
  expect(reset.stdout).toContain(`Written to ${file} (readable by you only).`);
  expect(readFileSync(file, 'utf8').trim()).toBe(newRoot);
  expect(statSync(file).mode & 0o777).toBe(0o600);

  // The running server takes the new key at once, root included; the old one stays refused.
  expect((await call(`${server.url}/v1/tasks`, newRoot)).status).toBe(200);
  expect((await call(`${server.url}/v1/orgs`, newRoot, 'POST', { id: 'after-reset', name: 'After' })).status).toBe(201);
  expect((await call(`${server.url}/v1/tasks`, oldRoot)).status).toBe(401);
  const after = await keys(newRoot);
  expect(after.filter((k) => k.revokedAt === null).map((k) => k.name)).toEqual(['root']);
  expect(after.find((k) => k.id === rootId)?.revokedAt).toEqual(expect.any(String));
  expect(await server.stop()).toBe(0);

  // A key the database does not know is named as such, and not added.
  const stranger = `tl_${'u'.repeat(40)}`;
  server = await serve(args, { TASKLANE_ROOT_KEY: stranger });
  expect(server.out()).toContain('TASKLANE_ROOT_KEY (not printed) is not a key of this database');
  expect((await call(`${server.url}/v1/tasks`, stranger)).status).toBe(401);
  expect((await call(`${server.url}/v1/tasks`, newRoot)).status).toBe(200);
}

describe('tasklane keys reset-root', () => {
  it('sqlite: the revoke path refuses, and a revoked root key is replaced while the server runs', async () => {
    await lockOutAndRecover(sqlite);
  }, 60_000);

  it.skipIf(pg === null)(
    'postgres: the revoke path refuses, and a revoked root key is replaced while the server runs',
    async () => {
      if (pg === null) return;
      await lockOutAndRecover(postgres(pg.newSchema()));
    },
    60_000,
  );

  it('refuses a database that does not exist, or that has no root key to reset, and creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasklane-reset-'));
    dirs.push(dir);
    const missing = await tasklane(['keys', 'reset-root', '--data-dir', join(dir, 'typo')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No database at ${join(dir, 'typo', 'tasklane.db')}`);
    expect(missing.stdout).toBe('');
    expect(existsSync(join(dir, 'typo'))).toBe(false);
    if (pg !== null) {
      const empty = await tasklane(['keys', 'reset-root', '--database', pg.url, '--db-schema', pg.newSchema()]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain("This database has no org 'default'");
      expect(empty.stdout).toBe('');
    }
  });

  it("rewrites the data folder's root-key file when it is this database's, and leaves another's alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasklane-reset-'));
    dirs.push(dir);
    const file = join(dir, 'root-key');
    const other = ['--database', `sqlite:${join(dir, 'other.db')}`];
    const reset = async (extra: string[]) => {
      const r = await tasklane(['keys', 'reset-root', '--data-dir', dir, ...extra, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { secret: string; revoked: string[]; file: { path: string } | null };
    };
    // Two databases started with one data folder: each first start wrote its key to the same file.
    const port = String(await freePort());
    await (await serve(['--port', port, '--data-dir', dir])).stop();
    await (await serve(['--port', port, '--data-dir', dir, ...other])).stop();
    const otherFirst = readFileSync(file, 'utf8').trim();

    // The file holds a root key of the other database, which the reset revokes: it is rewritten.
    const otherReset = await reset(other);
    expect(otherReset.revoked).toHaveLength(1);
    expect(otherReset.file?.path).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(otherReset.secret);
    expect(otherReset.secret).not.toBe(otherFirst);

    // The data folder's own database: its file, always.
    const own = await reset([]);
    expect(own.file?.path).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(own.secret);

    // The other database again: the file holds none of its keys now, and stays as it is.
    expect((await reset(other)).file).toBeNull();
    expect(readFileSync(file, 'utf8').trim()).toBe(own.secret);
  });
});
