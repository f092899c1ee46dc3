/** Orgs and API keys (SPEC §8): secrets once, revocation at once, who may create what. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeHarness, type Harness, type OrgKeys } from '../helpers/http-harness.js';

interface KeyWithSecret {
  id: string;
  name: string;
  scopes: string[];
  secret: string;
  createdAt: string;
  expiresAt: string | null;
}
interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const SECRET = /^tl_[0-9A-Za-z]{32,}$/;

let h: Harness;
let org: OrgKeys;
beforeAll(async () => {
  h = await makeHarness({ manualClock: true });
});
beforeEach(async () => {
  org = await h.newOrg();
});
afterAll(() => h.cleanup());

describe('keys', () => {
  test('the secret is shown once, at creation, and never by GET /v1/keys', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/keys', { name: 'reader', scopes: ['tasks:read'] });
    expect(res.statusCode).toBe(201);
    const key = res.json<KeyWithSecret>();
    expect(key).toMatchObject({ name: 'reader', scopes: ['tasks:read'], expiresAt: null });
    expect(key.secret).toMatch(SECRET);
    expect((await h.call(key.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);

    const listed = await h.call(org.admin, 'GET', '/v1/keys');
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(key.secret);
    expect(listed.body).not.toMatch(/tl_[0-9A-Za-z]{32,}/);
    expect(listed.body).not.toMatch(/"(secret|hash)"/);
    const items = listed.json<{ items: KeyInfo[] }>().items;
    expect(items.find((k) => k.id === key.id)).toEqual({
      id: key.id,
      name: 'reader',
      scopes: ['tasks:read'],
      createdAt: key.createdAt,
      expiresAt: null,
      revokedAt: null,
    });
  });

  test('two keys never share a secret', async () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 10; i++) secrets.add((await h.createKey(org.admin, ['tasks:read'])).secret);
    expect(secrets.size).toBe(10);
  });

  test('revoking answers 204, and the key is refused at once with the same 401', async () => {
    const key = await h.createKey(org.admin, ['tasks:write']);
    expect((await h.call(key.secret, 'POST', '/v1/tasks', { type: 'x' })).statusCode).toBe(201);
    const revoke = await h.call(org.admin, 'DELETE', `/v1/keys/${key.id}`);
    expect(revoke.statusCode).toBe(204);
    expect(revoke.body).toBe('');
    const after = await h.call(key.secret, 'POST', '/v1/tasks', { type: 'x' });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const listed = (await h.call(org.admin, 'GET', '/v1/keys')).json<{ items: KeyInfo[] }>().items;
    expect(listed.find((k) => k.id === key.id)?.revokedAt).toEqual(expect.any(String));
    expect((await h.listAll(org.admin)).length).toBe(1);
  });

  test('revoking an unknown or already revoked key is 404', async () => {
    const key = await h.createKey(org.admin, ['tasks:read']);
    expect((await h.call(org.admin, 'DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(204);
    expect((await h.call(org.admin, 'DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(404);
    expect((await h.call(org.admin, 'DELETE', '/v1/keys/key_nope')).statusCode).toBe(404);
  });

  test('a key that expires works until then, and is refused after', async () => {
    const clock = h.manualClock as NonNullable<Harness['manualClock']>;
    const key = await h.createKey(org.admin, ['tasks:read'], {
      expiresAt: new Date(clock.now() + 60_000).toISOString(),
    });
    expect((await h.call(key.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
    clock.advance(59_999);
    expect((await h.call(key.secret, 'GET', '/v1/tasks')).statusCode).toBe(200);
    clock.advance(1);
    expect((await h.call(key.secret, 'GET', '/v1/tasks')).statusCode).toBe(401);
  });

  test('an expiry in the past, no scopes, an unknown scope or an unknown field is 400', async () => {
    const clock = h.manualClock as NonNullable<Harness['manualClock']>;
    for (const body of [
      { name: 'k', scopes: ['tasks:read'], expiresAt: new Date(clock.now() - 1000).toISOString() },
      { name: 'k', scopes: [] },
      { name: 'k', scopes: ['tasks:delete'] },
      { name: 'k', scopes: ['tasks:read', 'tasks:read'] },
      { name: '', scopes: ['tasks:read'] },
      { name: 'k', scopes: ['tasks:read'], secret: 'tl_mine' },
    ]) {
      const res = await h.call(org.admin, 'POST', '/v1/keys', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  test('an admin cannot mint a root key; root can', async () => {
    const res = await h.call(org.admin, 'POST', '/v1/keys', { name: 'sneaky', scopes: ['root'] });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect(
      (await h.call(org.admin, 'GET', '/v1/keys')).json<{ items: KeyInfo[] }>().items.map((k) => k.name),
    ).not.toContain('sneaky');
    expect((await h.call(h.rootKey, 'POST', '/v1/keys', { name: 'second-root', scopes: ['root'] })).statusCode).toBe(
      201,
    );
  });

  test('a key only reaches the org it belongs to', async () => {
    const reader = await h.createKey(org.admin, ['tasks:read']);
    const theirs = await h.createTask(h.b.admin, { type: 'x' });
    expect((await h.call(reader.secret, 'GET', `/v1/tasks/${theirs.id}`)).statusCode).toBe(404);
  });
});

describe('orgs', () => {
  test('root creates an org and gets its first admin key, once', async () => {
    const res = await h.call(h.rootKey, 'POST', '/v1/orgs', { id: 'acme-1', name: 'Acme' });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ org: { id: string; name: string; createdAt: string }; adminKey: KeyWithSecret }>();
    expect(body.org).toMatchObject({ id: 'acme-1', name: 'Acme' });
    expect(body.adminKey.secret).toMatch(SECRET);
    expect(body.adminKey.scopes).toEqual(['admin']);
    const t = await h.createTask(body.adminKey.secret, { type: 'x' });
    expect(t.orgId).toBe('acme-1');
    const keys = await h.call(body.adminKey.secret, 'GET', '/v1/keys');
    expect(keys.body).not.toContain(body.adminKey.secret);
    expect(keys.json<{ items: KeyInfo[] }>().items.map((k) => k.id)).toEqual([body.adminKey.id]);
  });

  test('only root creates orgs: an admin is 403 and nothing is created', async () => {
    for (const key of [
      org.admin,
      h.a.admin,
      (await h.createKey(org.admin, ['tasks:read', 'tasks:write', 'tasks:work'])).secret,
    ]) {
      const res = await h.call(key, 'POST', '/v1/orgs', { id: 'not-allowed', name: 'No' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
    // The id is still free for root.
    expect((await h.call(h.rootKey, 'POST', '/v1/orgs', { id: 'not-allowed', name: 'Now yes' })).statusCode).toBe(201);
  });

  test('the org id pattern is [a-z0-9-]{2,63}', async () => {
    for (const id of ['a', 'Upper', 'with_underscore', 'with space', 'dot.ted', 'x'.repeat(64), '', 'ümlaut']) {
      const res = await h.call(h.rootKey, 'POST', '/v1/orgs', { id, name: 'x' });
      expect(res.statusCode, id).toBe(400);
      expect(res.json(), id).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    for (const id of ['ab', '0-9', 'x'.repeat(63)]) {
      expect((await h.call(h.rootKey, 'POST', '/v1/orgs', { id, name: 'x' })).statusCode, id).toBe(201);
    }
  });

  test('an org id that exists is 409', async () => {
    const res = await h.call(h.rootKey, 'POST', '/v1/orgs', { id: 'org-b', name: 'Again' });
    expect(res.statusCode).toBe(409);
    expect((await h.call(h.b.admin, 'GET', '/v1/tasks')).statusCode).toBe(200);
  });
});
