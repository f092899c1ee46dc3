/**
 * The root key outside the API (AuthService): `resetRoot`, what `tasklane keys reset-root` runs on
 * the database, and `bootstrap` on a database that has orgs, which checks TASKLANE_ROOT_KEY and
 * never adds it. End to end, with the real command and server: test/e2e/reset-root.test.ts.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { makeHarness, type Harness } from '../helpers/http-harness.js';

interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  revokedAt: string | null;
}

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ manualClock: true });
});
afterEach(() => h.cleanup());

const status = async (key: string, method: 'GET' | 'POST' = 'GET', url = '/v1/keys', body?: unknown) =>
  (await h.call(key, method, url, body)).statusCode;

describe('resetRoot', () => {
  test("a new root key; every root key of org default revoked; other keys and orgs' keys untouched", async () => {
    const rootOnly = await h.createKey(h.rootKey, ['root'], { name: 'second-root' });
    const reader = await h.createKey(h.rootKey, ['tasks:read'], { name: 'reader' });
    const before = (await h.call(h.rootKey, 'GET', '/v1/keys')).json<{ items: KeyInfo[] }>().items;
    const oldRoot = before.find((k) => k.name === 'root')?.id;

    const { created, revoked } = await h.services.auth.resetRoot();
    expect(created.key).toMatchObject({ orgId: 'default', name: 'root', scopes: ['root', 'admin'], revokedAt: null });
    expect(created.secret).toMatch(/^tl_[0-9A-Za-z]{32,}$/);
    expect(revoked.map((k) => k.id).sort()).toEqual([oldRoot, rootOnly.id].sort());

    expect(await status(created.secret)).toBe(200);
    expect(await status(created.secret, 'POST', '/v1/orgs', { id: 'made-after', name: 'After' })).toBe(201);
    expect(await status(h.rootKey)).toBe(401);
    expect(await status(rootOnly.secret)).toBe(401);
    expect(await status(h.a.admin)).toBe(200);
    expect(await status(reader.secret, 'GET', '/v1/tasks')).toBe(200);
    expect(await status(h.b.admin)).toBe(200);
  });

  test('a second reset revokes the first one’s key', async () => {
    const first = await h.services.auth.resetRoot();
    const second = await h.services.auth.resetRoot();
    expect(second.revoked.map((k) => k.id)).toEqual([first.created.key.id]);
    expect(await status(first.created.secret)).toBe(401);
    expect(await status(second.created.secret)).toBe(200);
  });
});

describe('bootstrap on a database that has orgs', () => {
  test('checks the given root key and says what it is, never adding one', async () => {
    const auth = h.services.auth;
    const clock = h.manualClock as ManualClock;
    expect(await auth.bootstrap(h.rootKey)).toEqual({ rootKey: null, given: 'valid' });
    expect(await auth.bootstrap()).toEqual({ rootKey: null, given: null });
    expect((await auth.bootstrap(h.a.admin)).given).toBe('not-root');

    const stranger = `tl_${'s'.repeat(40)}`;
    expect((await auth.bootstrap(stranger)).given).toBe('unknown');
    expect(await auth.authenticate(stranger)).toBeNull();

    const brief = await h.createKey(h.rootKey, ['root'], {
      name: 'brief',
      expiresAt: new Date(clock.now() + 1000).toISOString(),
    });
    clock.advance(1000);
    expect((await auth.bootstrap(brief.secret)).given).toBe('expired');

    await auth.resetRoot();
    expect((await auth.bootstrap(h.rootKey)).given).toBe('revoked');
  });
});
