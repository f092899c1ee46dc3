/**
 * Revoking keys cannot lock an org out (nothing but an admin key makes keys): a key cannot revoke
 * itself (409 KEY_IS_CALLER), and the org's last usable admin key cannot be revoked (409
 * LAST_ADMIN_KEY), `root` counting as `admin`, expired keys not counting. Two revocations that race
 * are tested here on SQLite and in test/storage/postgres/org-lock.test.ts on PostgreSQL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { TasklaneError } from '../../src/domain/errors.js';
import type { Principal } from '../../src/service/principal.js';
import { makeHarness, problemOf, type Harness, type OrgKeys } from '../helpers/http-harness.js';

interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  revokedAt: string | null;
}

let h: Harness;
let clock: ManualClock;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
  clock = h.manualClock as ManualClock;
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

const keysOf = async (adminKey: string): Promise<KeyInfo[]> => {
  const res = await h.call(adminKey, 'GET', '/v1/keys');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: KeyInfo[] }>().items;
};
/** The id of the key with this secret, as its org lists it. */
const idOf = async (secret: string, name: string): Promise<string> => {
  const key = (await keysOf(secret)).find((k) => k.name === name);
  if (key === undefined) throw new Error(`no key named ${name}`);
  return key.id;
};
/** Who a secret authenticates as, now: a request that has passed authentication and not yet run. */
const principal = async (secret: string): Promise<Principal> => {
  const p = await h.services.auth.authenticate(secret);
  if (p === null) throw new Error('the key should authenticate');
  return p;
};
/** The catalogue code a promise rejects with. */
const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof TasklaneError ? err.code : String(err)),
  );
const liveAdmins = async (adminKey: string): Promise<string[]> =>
  (await keysOf(adminKey))
    .filter((k) => k.revokedAt === null && (k.scopes.includes('admin') || k.scopes.includes('root')))
    .map((k) => k.id);

describe('a key cannot revoke itself', () => {
  test('an admin key revoking itself is 409 KEY_IS_CALLER, and it still works', async () => {
    const own = await idOf(org.admin, 'admin');
    // Another admin key exists, so it is not the last-admin rule that refuses.
    await h.createKey(org.admin, ['admin'], { name: 'second' });
    const res = await h.call(org.admin, 'DELETE', `/v1/keys/${own}`);
    expect(res.statusCode).toBe(409);
    expect(problemOf(res)).toMatchObject({ code: 'KEY_IS_CALLER', status: 409, type: '/docs/errors#key_is_caller' });
    expect((await h.call(org.admin, 'GET', '/v1/tasks')).statusCode).toBe(200);
    expect((await keysOf(org.admin)).find((k) => k.id === own)?.revokedAt).toBeNull();
  });

  test('so is the root key revoking itself', async () => {
    const own = await idOf(h.rootKey, 'root');
    const res = await h.call(h.rootKey, 'DELETE', `/v1/keys/${own}`);
    expect([res.statusCode, problemOf(res).code]).toEqual([409, 'KEY_IS_CALLER']);
    expect((await h.call(h.rootKey, 'GET', '/v1/tasks')).statusCode).toBe(200);
  });

  test('another admin key of the org may revoke it', async () => {
    const own = await idOf(org.admin, 'admin');
    const second = await h.createKey(org.admin, ['admin'], { name: 'second' });
    expect((await h.call(second.secret, 'DELETE', `/v1/keys/${own}`)).statusCode).toBe(204);
    expect((await h.call(org.admin, 'GET', '/v1/tasks')).statusCode).toBe(401);
  });
});

describe('the last admin key of an org cannot be revoked', () => {
  test('keys without admin go whatever is left; the admin keys, down to the last', async () => {
    const reader = await h.createKey(org.admin, ['tasks:read', 'tasks:write', 'tasks:work']);
    expect((await h.call(org.admin, 'DELETE', `/v1/keys/${reader.id}`)).statusCode).toBe(204);
    const b = await h.createKey(org.admin, ['admin'], { name: 'b' });
    const a = await idOf(org.admin, 'admin');
    // Both admins passed authentication; then A revokes B, and B's request, already under way, runs.
    const asA = await principal(org.admin);
    const asB = await principal(b.secret);
    await h.services.auth.revokeKey(asA, b.id);
    expect(await codeOf(h.services.auth.revokeKey(asB, a))).toBe('LAST_ADMIN_KEY');
    expect(await liveAdmins(org.admin)).toEqual([a]);
  });

  test('over HTTP: two admins revoking each other at once leave the org one of them', async () => {
    const b = await h.createKey(org.admin, ['admin'], { name: 'b' });
    const a = await idOf(org.admin, 'admin');
    const [byA, byB] = await Promise.all([
      h.call(org.admin, 'DELETE', `/v1/keys/${b.id}`),
      h.call(b.secret, 'DELETE', `/v1/keys/${a}`),
    ]);
    const answers = [byA, byB].map((r) => (r.statusCode === 204 ? 204 : `${r.statusCode} ${problemOf(r).code}`));
    // One wins; the other is refused by the rule, or (had the winner committed before it was
    // authenticated) by the revocation itself.
    expect(answers.filter((x) => x === 204)).toHaveLength(1);
    expect(answers.filter((x) => x !== 204)[0]).toMatch(/^(409 LAST_ADMIN_KEY|401 UNAUTHORIZED)$/);
    const survivor = byA.statusCode === 204 ? org.admin : b.secret;
    expect(await liveAdmins(survivor)).toHaveLength(1);
  });

  test('an expired admin key does not count, and may itself be revoked', async () => {
    const a = await idOf(org.admin, 'admin');
    const short = await h.createKey(org.admin, ['admin'], {
      name: 'short',
      expiresAt: new Date(clock.now() + 60_000).toISOString(),
    });
    const asShort = await principal(short.secret);
    clock.advance(60_000);
    // `short` has expired: A is the last usable admin key.
    expect(await codeOf(h.services.auth.revokeKey(asShort, a))).toBe('LAST_ADMIN_KEY');
    expect((await h.call(org.admin, 'DELETE', `/v1/keys/${short.id}`)).statusCode).toBe(204);
    expect((await h.call(org.admin, 'GET', '/v1/tasks')).statusCode).toBe(200);
  });

  test("an org's rule counts its own keys only", async () => {
    const other = await h.newOrg();
    const b = await h.createKey(org.admin, ['admin'], { name: 'b' });
    const a = await idOf(org.admin, 'admin');
    await h.services.auth.revokeKey(await principal(org.admin), b.id);
    // Another org's admins are no admins of this one.
    expect(await codeOf(h.services.auth.revokeKey({ ...(await principal(other.admin)), orgId: org.orgId }, a))).toBe(
      'LAST_ADMIN_KEY',
    );
    // And a key of another org is no key of this one.
    expect((await h.call(other.admin, 'DELETE', `/v1/keys/${a}`)).statusCode).toBe(404);
  });
});

describe('root', () => {
  test('a root key counts as an admin key, even one without the admin scope', async () => {
    // A harness of its own: org `default` loses its root key here.
    const own = await makeHarness();
    try {
      const call = own.call;
      const auth = own.services.auth;
      const as = async (secret: string): Promise<Principal> => {
        const p = await auth.authenticate(secret);
        if (p === null) throw new Error('the key should authenticate');
        return p;
      };
      const listed = (await call(own.rootKey, 'GET', '/v1/keys')).json<{ items: KeyInfo[] }>().items;
      const id = (name: string) => listed.find((k) => k.name === name)?.id ?? '';
      // Org `default`: its root key (root + admin), the harness's admin key, and a root-only key.
      const rootOnly = await own.createKey(own.rootKey, ['root'], { name: 'root-only' });
      const asAdmin = await as(own.a.admin);
      const asRootOnly = await as(rootOnly.secret);
      expect((await call(rootOnly.secret, 'DELETE', `/v1/keys/${id('root')}`)).statusCode).toBe(204);
      await auth.revokeKey(asRootOnly, id('a-admin'));
      // The root-only key is the org's last admin now: the admin's request, under way, is refused.
      expect(await codeOf(auth.revokeKey(asAdmin, rootOnly.id))).toBe('LAST_ADMIN_KEY');
      const keys = (await call(rootOnly.secret, 'GET', '/v1/keys')).json<{ items: KeyInfo[] }>().items;
      expect(keys.filter((k) => k.revokedAt === null).map((k) => k.id)).toEqual([rootOnly.id]);
    } finally {
      await own.cleanup();
    }
  });
});
